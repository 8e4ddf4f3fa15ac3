// The whole conversion (stage 1, stage 2, evaluation) on a tiny GPT-2 with the real engine: it
// writes both stages, and a second conversion into the same folder replaces them only when told to;
// in scope all, stage 2 writes the folder at T without calibrating and the report counts every site.
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { describeSummary } from '../../electron/cli/commands/convert.js';
import type { JobContext } from '../../electron/core/jobs/types.js';
import { convertSettings, runConversion } from '../../electron/core/pipeline/convert.js';
import { readSpikingConfig } from '../../electron/core/spiking/spiking-config.js';
import { tempDir, writeTinyModel } from '../helpers/tiny-models.js';

const context: JobContext = { runDir: '', signal: new AbortController().signal, progress: () => undefined, log: () => undefined };

describe('conversion', async () => {
  const temp = await tempDir();
  afterAll(() => temp.cleanup());
  const ann = join(temp.path, 'ann');
  await writeTinyModel(ann, 'gpt2');
  const dataPath = join(temp.path, 'data.txt');
  writeFileSync(dataPath, 'The whale swam on. The sea was calm and grey. Ishmael watched the whale.\n\n'.repeat(40));
  const outDir = join(temp.path, 'converted');
  const settings = { modelDir: ann, dataPath, outDir, steps: 2, batchSize: 2, blockSize: 16, timesteps: 2, samples: 4, evalTokens: 64, evalTimesteps: [2] };

  it('writes both stages and scores the spiking model', async () => {
    const summary = await runConversion(convertSettings.parse(settings), context);
    expect(summary.modelDir).toBe(join(outDir, 'stage2-spiking'));
    expect(await readSpikingConfig(join(outDir, 'stage1-qcfs'))).toMatchObject({ calibration: 'none' });
    expect(await readSpikingConfig(summary.modelDir)).toMatchObject({ calibration: 'neuron', T: 2 });
    expect(summary.calibration.joint?.epochs.length).toBeGreaterThan(0);
    expect(summary.evaluation.rows.some((r) => r.perplexity !== undefined)).toBe(true);
    // What `fas convert` prints: the task named once ("Perplexity on Perplexity on ..." before).
    expect(describeSummary(summary)).toMatch(/^Perplexity on (?!Perplexity)[^\n]+ \(\d+ tokens\):$/m);
  });

  it('replaces an earlier conversion only when told to', async () => {
    await expect(runConversion(convertSettings.parse(settings), context)).rejects.toThrow(/already holds an earlier run's output/);
    const again = await runConversion(convertSettings.parse({ ...settings, overwrite: true }), context);
    expect(existsSync(join(again.modelDir, 'checkpoint'))).toBe(false);
    expect(await readSpikingConfig(again.modelDir)).toMatchObject({ calibration: 'neuron' });
  });

  it('calibrates with the FAS reference recipe when asked, from the API and the command line', async () => {
    const summary = await runConversion(convertSettings.parse({ ...settings, outDir: join(temp.path, 'paper'), recipe: 'paper' }), context);
    expect(summary.calibration.recipe).toMatchObject({ name: 'paper', jointEpochs: 3, klReduction: 'batchmean' });
    expect(convertSettings.safeParse({ ...settings, recipe: 'paper', level: 'layer' }).success).toBe(false);
    const cli = fileURLToPath(new URL('../../dist/electron/cli/fas.js', import.meta.url));
    await expect(promisify(execFile)(process.execPath, [cli, 'convert', '--demo', '--recipe', 'paper', '--level', 'neuron'])).rejects.toThrow(
      /--recipe paper sets --level itself, as the FAS reference code does; leave it out/,
    );
  });

  it('in scope all, quantises every layer in stage 1 and writes the spiking folder without calibration', async () => {
    const summary = await runConversion(convertSettings.parse({ ...settings, outDir: join(temp.path, 'all'), scope: 'all' }), context);
    expect(await readSpikingConfig(join(temp.path, 'all', 'stage1-qcfs'))).toMatchObject({ scope: 'all', encoding: 'layer', calibration: 'none', T: 2 });
    expect(summary.calibration.notNeeded).toBe(true);
    expect(await readSpikingConfig(summary.modelDir)).toMatchObject({ scope: 'all', calibration: 'none', T: 2 });
    expect(summary.evaluation.energy?.perSite?.map((s) => s.site)).toEqual(['attn_in', 'q', 'v', 'attn_out', 'ffn_in', 'qcfs', 'head_in']);
    expect(summary.evaluation.rows.filter((r) => r.perplexity !== undefined)).toHaveLength(3); // ANN, quantised, spiking at T = 2
  });
});
