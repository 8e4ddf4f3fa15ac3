// kill -9 at seeded random moments of a training run, a calibration and a conversion on a tiny
// model, a few times each, then starting again: every restart works, leaves no temporary files, and
// a resumed training or calibration ends with exactly the bytes of an uninterrupted one. The jobs run
// in `fas` processes (needs `npm run build:core`), which is what SIGKILL hits.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNative } from '../../native/index.js';
import { mulberry32 } from '../../electron/core/random.js';
import { openModelFolder } from '../../electron/core/model/folder.js';
import { finetuneSettings } from '../../electron/core/training/settings.js';
import { runTraining } from '../../electron/core/training/train-loop.js';
import { tempDir, writeTinyModel } from '../helpers/tiny-models.js';

const cli = fileURLToPath(new URL('../../dist/electron/cli/fas.js', import.meta.url));
const TEXT = 'The whale swam on. The sea was calm and grey. Ishmael watched the whale.\n\n'.repeat(40);

interface Outcome {
  code: number | null;
  killed: boolean;
  stderr: string;
  ms: number;
}

/** Runs `fas args`; with killAfterMs, sends SIGKILL then (unless it ended first). */
function fas(args: string[], killAfterMs?: number): Promise<Outcome> {
  const started = Date.now();
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let killed = false;
  const timer = killAfterMs === undefined ? undefined : setTimeout(() => (killed = child.kill('SIGKILL')), killAfterMs);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, killed, stderr, ms: Date.now() - started });
    }),
  );
}

/** Hidden temporaries or moved-aside folders anywhere under `dir`. */
function leftovers(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String).filter((p) => /\.(tmp|old)-[0-9a-f]{8}$/.test(p));
}

/**
 * Kills `kills` runs at seeded moments within the uninterrupted run's duration, each started again
 * as `restart` says, then lets the last one finish. Every run that ended on its own must have succeeded.
 */
async function killAndRestart(seed: number, kills: number, durationMs: number, restart: () => string[]): Promise<void> {
  const random = mulberry32(seed);
  for (let i = 0; i < kills; i++) {
    const run = await fas(restart(), Math.round((0.1 + 0.85 * random()) * durationMs));
    if (!run.killed) {
      expect(run.code, run.stderr).toBe(0);
      return;
    }
  }
  const last = await fas(restart());
  expect(last.code, last.stderr).toBe(0);
}

describe('kill -9 and start again', async () => {
  const temp = await tempDir();
  afterAll(() => temp.cleanup());
  const model = join(temp.path, 'tiny');
  await writeTinyModel(model, 'gpt2');
  const data = join(temp.path, 'data.txt');
  writeFileSync(data, TEXT);

  it('training: every resume works and ends bit-identical to an uninterrupted run', async () => {
    const args = (out: string) => ['train', model, '--data', data, '--out', out, '--steps', '30', '--batch', '2', '--block', '16', '--save-every', '3', '--val-every', '10', '--seed', '3', '--lr', '0.003'];
    const straight = join(temp.path, 'train-straight');
    const reference = await fas(args(straight));
    expect(reference.code, reference.stderr).toBe(0);
    const out = join(temp.path, 'train-killed');
    const checkpoint = join(out, 'checkpoint', 'trainer_state.json');
    await killAndRestart(11, 3, reference.ms, () => (existsSync(join(out, 'model.safetensors')) ? ['info', out] : [...args(out), ...(existsSync(checkpoint) ? ['--resume'] : [])]));
    expect(leftovers(out)).toEqual([]);
    expect(Buffer.compare(readFileSync(join(straight, 'model.safetensors')), readFileSync(join(out, 'model.safetensors')))).toBe(0);
  });

  it('calibration: every resume works and ends bit-identical to an uninterrupted run', async () => {
    const stage1 = join(temp.path, 'stage1');
    const ctx = { runDir: temp.path, signal: new AbortController().signal, progress: () => {}, log: () => {} };
    await runTraining(finetuneSettings.parse({ modelDir: model, dataPath: data, outDir: stage1, steps: 4, batchSize: 2, blockSize: 16, valEvery: 4, seed: 2 }), ctx, loadNative());
    const args = (out: string) => ['calibrate', stage1, '--data', data, '--out', out, '--T', '2', '--samples', '8', '--batch', '2', '--block', '16', '--epochs', '3', '--joint-epochs', '2', '--seed', '2'];
    const straight = join(temp.path, 'calibrate-straight');
    const reference = await fas(args(straight));
    expect(reference.code, reference.stderr).toBe(0);
    const out = join(temp.path, 'calibrate-killed');
    const checkpoint = join(out, 'checkpoint', 'calibration_state.json');
    await killAndRestart(22, 3, reference.ms, () => (existsSync(join(out, 'spiking.safetensors')) ? ['info', out] : [...args(out), ...(existsSync(checkpoint) ? ['--resume'] : [])]));
    expect(leftovers(out)).toEqual([]);
    expect(Buffer.compare(readFileSync(join(straight, 'spiking.safetensors')), readFileSync(join(out, 'spiking.safetensors')))).toBe(0);
  });

  it('conversion: started again over a killed one, it finishes and leaves nothing half written', async () => {
    const out = join(temp.path, 'converted');
    const args = ['convert', model, '--data', data, '--out', out, '--steps', '4', '--T', '2', '--samples', '4', '--level', 'layer', '--overwrite'];
    await killAndRestart(33, 2, 6000, () => args);
    expect(leftovers(out)).toEqual([]);
    expect((await openModelFolder(join(out, 'stage2-spiking'))).summary.layers).toBe(2);
  });
});
