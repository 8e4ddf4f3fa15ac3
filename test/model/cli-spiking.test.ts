// The CLI's spiking commands on a tiny converted model (LLaMA family, signed site, T = 4).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../electron/core/inference/loaded-model.js';
import { writeConvertedChatModel } from '../unit/chat/helpers.js';
import { tempDir, writeTinyModel } from '../helpers/tiny-models.js';

const cli = fileURLToPath(new URL('../../dist/electron/cli/fas.js', import.meta.url));
const fas = async (...args: string[]) => {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return e;
  }
};

describe('CLI on a converted model', async () => {
  const temp = await tempDir();
  afterAll(() => temp.cleanup());
  const dir = await writeConvertedChatModel(join(temp.path, 'converted'));

  it('prints spiking logits (averaged over T) equal to the engine', async () => {
    const res = await fas('logits', dir, '--ids', '72,101,108', '--mode', 'snn', '--T', '3', '--json');
    expect(res.code, res.stderr).toBe(0);
    const printed = JSON.parse(res.stdout).logits as number[][];
    const model = await loadModel(dir);
    const expected = await model.engine.forward(Int32Array.of(72, 101, 108), 1, 3, { mode: 'snn', timesteps: 3 });
    expect(printed.flat()).toEqual(Array.from(expected));
    const ann = await model.engine.forward(Int32Array.of(72, 101, 108), 1, 3);
    expect(printed.flat()).not.toEqual(Array.from(ann));
    model.engine.dispose();
  });

  it('reports firing rates, operations and energy with spikes --json', async () => {
    const res = await fas('spikes', dir, '--text', 'Hello there', '--T', '4', '--json');
    expect(res.code, res.stderr).toBe(0);
    const report = JSON.parse(res.stdout);
    expect(report.timesteps).toBe(4);
    expect(report.firingRates).toHaveLength(2);
    for (const rate of report.firingRates) expect(rate >= 0 && rate <= 1).toBe(true);
    expect(report.macsPerToken).toBeGreaterThan(report.annMacsPerToken);
    expect(report.counted).toMatch(/Not counted/);
  });

  it('generates with the spiking model and prints its statistics', async () => {
    const res = await fas('generate', dir, '--prompt', 'Hi', '--snn', '--max-tokens', '5', '--temperature', '0', '--stats');
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/T = 4: firing rate [\d.]+/);
  });

  it('refuses spiking modes on a plain model in words', async () => {
    const plain = join(temp.path, 'plain');
    await writeTinyModel(plain, 'gpt2');
    const res = await fas('logits', plain, '--ids', '1,2', '--mode', 'qcfs');
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/not a converted model/);
  });
});
