// Stage 2 on a model that spikes at every layer (scope "all", layer encoding): nothing to
// calibrate, so the job writes the folder at the chosen T with its thresholds unchanged and says so,
// and needs no text; a model spiking at its FFN site only is refused without one, in words.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatReport } from '../../electron/core/calibration/report.js';
import { runCalibration } from '../../electron/core/calibration/run-calibration.js';
import { calibrateSettings } from '../../electron/core/calibration/settings.js';
import type { JobContext } from '../../electron/core/jobs/types.js';
import { readSpikingConfig, writeSpikingConfig } from '../../electron/core/spiking/spiking-config.js';
import { readAllScopeWeights } from '../../electron/core/spiking/spiking-weights.js';
import { openModelFolder } from '../../electron/core/model/folder.js';
import { loadNative } from '../../native/index.js';
import { writeAllScopeModel } from '../helpers/spiking-all.js';
import { tempDir, writeTinyModel } from '../helpers/tiny-models.js';

describe('calibrating a scope all model', () => {
  it('writes it at the chosen T without calibrating, and says why', async () => {
    const temp = await tempDir();
    const stage1 = join(temp.path, 'stage1');
    const weights = await writeAllScopeModel(stage1, 'llama-gqa-tied', 8);
    const logs: string[] = [];
    const ctx: JobContext = { runDir: '', signal: new AbortController().signal, progress: () => undefined, log: (line) => logs.push(line) };
    const outDir = join(temp.path, 'at-T4');
    const settings = calibrateSettings.parse({ modelDir: stage1, outDir, timesteps: 4 });
    const report = await runCalibration(settings, ctx, loadNative());
    expect(report).toMatchObject({ notNeeded: true, timesteps: 4, layers: [], outDir });
    expect(logs.join('\n')).toMatch(/no calibration is needed/);
    expect(formatReport(report)).toMatch(/^Wrote .*at-T4 at T = 4\. .*no calibration is needed/);
    expect(await readSpikingConfig(outDir)).toMatchObject({ scope: 'all', encoding: 'layer', T: 4, L: 8, calibration: 'none', signed: true });
    expect(await readAllScopeWeights(outDir, (await openModelFolder(outDir)).spec)).toEqual(weights);
    await temp.cleanup();
  });

  it('asks for the text to calibrate a model spiking at its FFN site only', async () => {
    const temp = await tempDir();
    const stage1 = join(temp.path, 'stage1');
    await writeTinyModel(stage1, 'gpt2');
    await writeSpikingConfig(stage1, { L: 8, T: 8, neuron: 'if-soft-reset', signed: false, site: 'ffn_act', calibration: 'none', scope: 'ffn' });
    const ctx: JobContext = { runDir: '', signal: new AbortController().signal, progress: () => undefined, log: () => undefined };
    const settings = calibrateSettings.parse({ modelDir: stage1, outDir: join(temp.path, 'out') });
    await expect(runCalibration(settings, ctx, loadNative())).rejects.toThrow(/^Give the text to calibrate on \(dataPath, or --data\)/);
    await temp.cleanup();
  });
});
