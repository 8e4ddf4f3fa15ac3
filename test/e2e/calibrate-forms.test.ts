// The calibration wizard's form logic (no browser): defaults from the job kind's schema, the
// checks in words, the job parameters, the default output folder, and the live per-layer align
// errors read back from a run's reported rows.
import { describe, expect, it } from 'vitest';
import type { CalibrationResult } from '../../electron/api/contract.js';
import type { CalibrationReport } from '../../electron/core/calibration/report.js';
import { calibrateSettings } from '../../electron/core/calibration/settings.js';
import { paramDefaults } from '../../electron/core/jobs/defaults.js';
import { jobKinds } from '../../electron/core/jobs/kinds.js';
import {
  baseModelName,
  calibrateParams,
  defaultOutDir,
  liveAlignErrors,
  settingsFromDefaults,
  settingsProblem,
  withPreset,
} from '../../renderer/src/wizards/calibrate/calibrate-form.js';

// The contract's result type mirrors the core's report: this fails to compile when they drift apart.
const sameShape = (report: CalibrationReport): CalibrationResult => report;
void sameShape;

const defaults = settingsFromDefaults(paramDefaults(jobKinds, 'calibrate'));
const paths = { modelDir: '/m/stage1', dataPath: '/d/text', outDir: '/m/stage2' };

describe('calibration form', () => {
  it('starts from the job kind’s defaults and turns them back into the same job', () => {
    expect(defaults).toEqual({ timesteps: 8, level: 'neuron', samples: 32, blockSize: 128, batchSize: 4, epochs: 4, lr: 3e-3, seed: 1, maxPositions: null, maxDataMegabytes: null });
    expect(calibrateSettings.parse(calibrateParams(defaults, paths))).toEqual(calibrateSettings.parse(paths));
  });

  it('passes the optional settings only where the job takes them', () => {
    const params = calibrateParams({ ...defaults, maxPositions: 16, maxDataMegabytes: 0.5 }, paths);
    expect(params).toMatchObject({ maxPositions: 16, maxDataBytes: 500_000 });
    expect(calibrateSettings.safeParse(params).success).toBe(true);
    // Per layer has no fine pass: the per-position length is left out (the job would refuse it).
    const perLayer = calibrateParams({ ...defaults, level: 'layer', maxPositions: 16 }, paths);
    expect(perLayer).not.toHaveProperty('maxPositions');
    expect(calibrateSettings.safeParse(perLayer).success).toBe(true);
  });

  it('says what is wrong in words', () => {
    expect(settingsProblem(defaults, 1024)).toBeNull();
    expect(settingsProblem(defaults, 32)).toBe("The block size can be at most 32, the model's context length.");
    expect(settingsProblem({ ...defaults, timesteps: 0 }, 1024)).toBe('T must be a whole number from 1 to 1024.');
    expect(settingsProblem({ ...defaults, samples: 2.5 }, 1024)).toBe('The number of calibration samples must be a whole number from 1 to 100,000.');
    expect(settingsProblem({ ...defaults, lr: Number.NaN }, 1024)).toBe('The learning rate must be a number above 0, at most 1.');
    expect(settingsProblem({ ...defaults, maxPositions: 0 }, 1024)).toMatch(/^The per-position max length must be a whole number/);
    expect(settingsProblem({ ...defaults, level: 'layer', maxPositions: 0 }, 1024)).toBeNull();
    expect(settingsProblem({ ...defaults, maxDataMegabytes: 0 }, 1024)).toMatch(/above 0 MB/);
  });

  it('applies only the known settings of a preset, with the right types', () => {
    const next = withPreset(defaults, { timesteps: 16, level: 'layer', samples: 'many', maxPositions: null, maxDataMegabytes: 2, stray: 1 });
    expect(next).toEqual({ ...defaults, timesteps: 16, level: 'layer', maxDataMegabytes: 2 });
    expect(withPreset(defaults, { level: 'everything' }).level).toBe('neuron');
  });

  it('names the output folder after the original model, not the stage-1 folder', () => {
    expect(baseModelName('gpt2-stage1-2026-11-28-1424')).toBe('gpt2');
    expect(baseModelName('my model')).toBe('my model');
    const now = new Date(2026, 10, 28, 9, 5);
    expect(defaultOutDir('/home/me/fas/', 'Demo GPT-2 (4.3 M)-stage1-2026-11-28-0900', now)).toBe('/home/me/fas/models/Demo-GPT-2-4.3-M-stage2-2026-11-28-0905');
    expect(defaultOutDir('C:\\Users\\me\\fas', 'gpt2-stage1', now)).toBe('C:\\Users\\me\\fas\\models\\gpt2-stage2-2026-11-28-0905');
  });

  it('reads the align error of each layer at each stage from the rows a run reported', () => {
    // As run-calibration.ts reports them: a row without a loss when a layer starts, then its loss
    // (and in the fine pass one per epoch); a held-out measurement between stages has no layer.
    const rows: Array<Record<string, number>> = [
      { layer: 0 }, { layer: 0, alignLoss: 0.4 }, { layer: 1 }, { layer: 1, alignLoss: 0.2, etaSeconds: 30 },
      { etaSeconds: 20 },
      { layer: 0, etaSeconds: 20 }, { layer: 0, alignLoss: 0.1 }, { layer: 1 }, { layer: 1, alignLoss: 0.05 },
      { layer: 0 }, { layer: 0, alignLoss: 0.09 }, { layer: 0, alignLoss: 0.08 }, { layer: 0, alignLoss: 0.07 }, { layer: 1 },
    ];
    expect(liveAlignErrors(rows, 2)).toEqual({ before: [0.4, 0.2], coarse: [0.1, 0.05], fine: [0.07, null] });
    expect(liveAlignErrors([], 3)).toEqual({ before: [null, null, null], coarse: [null, null, null], fine: [null, null, null] });
    // A one-layer model still moves on to the next stage at each new start of layer 0.
    expect(liveAlignErrors([{ layer: 0 }, { layer: 0, alignLoss: 1 }, { layer: 0 }, { layer: 0, alignLoss: 0.5 }], 1)).toEqual({ before: [1], coarse: [0.5], fine: [null] });
  });
});
