// The calibration wizard's form logic (no browser): defaults from the job kind's schema, the
// checks in words, the job parameters, the default output folder, and the live per-layer align
// errors and joint-pass KL read back from a run's reported rows.
import { describe, expect, it } from 'vitest';
import { calibrateSettings } from '../../../electron/core/calibration/settings.js';
import { paramLimits } from '../../../electron/core/api/param-limits.js';
import { paramDefaults } from '../../../electron/core/jobs/defaults.js';
import { jobKinds } from '../../../electron/core/jobs/kinds.js';
import { DEFAULT_BLOCK_SIZE } from '../../../electron/shared/model-defaults.js';
import {
  calibrateParams,
  defaultOutDir,
  liveAlignErrors,
  liveJointKl,
  settingsFromDefaults,
  settingsProblem,
  unused,
  withPreset,
} from '../../../renderer/src/wizards/calibrate/calibrate-form.js';
import { recipeWords } from '../../../electron/shared/calibration-recipes.js';

const defaults = settingsFromDefaults(paramDefaults(jobKinds, 'calibrate'));
const limits = paramLimits(jobKinds, 'calibrate');
const paths = { modelDir: '/m/stage1', dataPath: '/d/text', outDir: '/m/stage2' };
const jobDefaults = calibrateSettings.parse(paths);

describe('calibration form', () => {
  it('starts from the job kind’s defaults and turns them back into the same job', () => {
    expect(defaults).toEqual({
      recipe: 'app',
      timesteps: 8,
      level: 'neuron',
      samples: 32,
      blockSize: 128,
      batchSize: 4,
      epochs: 4,
      lr: 3e-3,
      // The joint pass's defaults are still being tuned in the core: whatever the job kind says.
      jointEpochs: jobDefaults.jointEpochs,
      jointLr: jobDefaults.jointLr,
      alignWeight: 1,
      seed: 1,
      maxPositions: null,
      maxDataMegabytes: null,
    });
    // The wizard sends the block size it shows (fitted to the chosen model), the job's default when it fits.
    expect(calibrateSettings.parse(calibrateParams(defaults, paths))).toEqual({ ...jobDefaults, blockSize: DEFAULT_BLOCK_SIZE });
  });

  it('passes the optional settings only where the job takes them', () => {
    const params = calibrateParams({ ...defaults, maxPositions: 16, maxDataMegabytes: 0.5 }, paths);
    expect(params).toMatchObject({ maxPositions: 16, maxDataBytes: 500_000 });
    expect(calibrateSettings.safeParse(params).success).toBe(true);
    // Per layer has no fine or joint pass: their settings are left out (the job would refuse the
    // per-position length, and takes its defaults for the rest).
    const perLayer = calibrateParams({ ...defaults, level: 'layer', maxPositions: 16, epochs: 0, jointEpochs: -1, alignWeight: Number.NaN }, paths);
    for (const key of ['maxPositions', 'epochs', 'lr', 'jointEpochs', 'jointLr', 'alignWeight']) expect(perLayer).not.toHaveProperty(key);
    expect(calibrateSettings.safeParse(perLayer).success).toBe(true);
  });

  it('sends the joint pass settings per neuron, 0 epochs included', () => {
    const params = calibrateParams({ ...defaults, jointEpochs: 0, jointLr: 0.05, alignWeight: 0.25 }, paths);
    expect(params).toMatchObject({ jointEpochs: 0, jointLr: 0.05, alignWeight: 0.25, lr: 3e-3 });
    expect(calibrateSettings.parse(params)).toMatchObject({ jointEpochs: 0, jointLr: 0.05, alignWeight: 0.25 });
  });

  it('says what is wrong in words', () => {
    expect(settingsProblem(defaults, 1024, limits)).toBeNull();
    expect(settingsProblem(defaults, 32, limits)).toBe("The block size can be at most 32, the model's context length.");
    expect(settingsProblem({ ...defaults, timesteps: 0 }, 1024, limits)).toBe('T must be a whole number from 1 to 1,024.');
    expect(settingsProblem({ ...defaults, samples: 2.5 }, 1024, limits)).toBe('The number of calibration samples must be a whole number from 1 to 100,000.');
    expect(settingsProblem({ ...defaults, lr: Number.NaN }, 1024, limits)).toBe('The fine pass learning rate must be a number above 0, at most 1.');
    expect(settingsProblem({ ...defaults, maxPositions: 0 }, 1024, limits)).toMatch(/^The per-position max length must be a whole number/);
    expect(settingsProblem({ ...defaults, level: 'layer', maxPositions: 0 }, 1024, limits)).toBeNull();
    expect(settingsProblem({ ...defaults, maxDataMegabytes: 0 }, 1024, limits)).toMatch(/above 0 MB/);
    expect(settingsProblem({ ...defaults, epochs: 0 }, 1024, limits)).toBe('The fine pass epochs must be a whole number from 1 to 1,000.');
  });

  it('checks the joint pass settings per neuron only', () => {
    const jointEpochs = 'The joint pass epochs must be a whole number from 0 to 1,000 (0 skips the joint pass).';
    expect(settingsProblem({ ...defaults, jointEpochs: 0 }, 1024, limits)).toBeNull();
    expect(settingsProblem({ ...defaults, jointEpochs: 1000, alignWeight: 0 }, 1024, limits)).toBeNull();
    expect(settingsProblem({ ...defaults, jointEpochs: -1 }, 1024, limits)).toBe(jointEpochs);
    expect(settingsProblem({ ...defaults, jointEpochs: 1.5 }, 1024, limits)).toBe(jointEpochs);
    expect(settingsProblem({ ...defaults, jointEpochs: 1001 }, 1024, limits)).toBe(jointEpochs);
    expect(settingsProblem({ ...defaults, alignWeight: -0.1 }, 1024, limits)).toBe('The align loss weight must be a number from 0 to 1,000,000.');
    expect(settingsProblem({ ...defaults, alignWeight: Number.NaN }, 1024, limits)).toBe('The align loss weight must be a number from 0 to 1,000,000.');
    expect(settingsProblem({ ...defaults, jointLr: 0 }, 1024, limits)).toBe('The joint pass learning rate must be a number above 0, at most 1.');
    // Per layer, the per-neuron passes' fields are disabled: what they hold cannot block the run.
    expect(settingsProblem({ ...defaults, level: 'layer', jointEpochs: -1, jointLr: 2, alignWeight: -1, epochs: 0, lr: 0 }, 1024, limits)).toBeNull();
  });

  it('applies only the known settings of a preset, with the right types', () => {
    const next = withPreset(defaults, {
      timesteps: 16,
      level: 'layer',
      samples: 'many',
      maxPositions: null,
      maxDataMegabytes: 2,
      jointEpochs: 0,
      jointLr: 0.02,
      alignWeight: '2',
      stray: 1,
    });
    expect(next).toEqual({ ...defaults, timesteps: 16, level: 'layer', maxDataMegabytes: 2, jointEpochs: 0, jointLr: 0.02 });
    // A preset saved before the joint pass existed keeps the current joint settings.
    expect(withPreset({ ...defaults, jointEpochs: 7 }, { timesteps: 4 })).toEqual({ ...defaults, timesteps: 4, jointEpochs: 7 });
    expect(withPreset(defaults, { level: 'everything' }).level).toBe('neuron');
  });

  it('maps the recipe choice: the reference recipe sends none of the settings it fixes', () => {
    const paper = { ...defaults, recipe: 'paper' as const, level: 'layer' as const, maxPositions: 16, epochs: 0, jointEpochs: -1, jointLr: 2, alignWeight: -1 };
    // The fields it fixes are disabled: what they hold neither blocks the run nor reaches the job.
    expect(settingsProblem(paper, 1024, limits)).toBeNull();
    const params = calibrateParams(paper, paths);
    expect(params).toMatchObject({ recipe: 'paper', timesteps: 8, samples: 32, blockSize: 128, batchSize: 4, seed: 1 });
    for (const key of ['level', 'maxPositions', 'epochs', 'lr', 'jointEpochs', 'jointLr', 'alignWeight']) expect(params).not.toHaveProperty(key);
    expect(calibrateSettings.parse(params)).toMatchObject({ recipe: 'paper', level: 'neuron' });
    expect(unused(paper, 'jointEpochs') && unused(paper, 'level') && !unused(paper, 'samples')).toBe(true);
    // Its own checks still apply.
    expect(settingsProblem({ ...paper, timesteps: 0 }, 1024, limits)).toBe('T must be a whole number from 1 to 1,024.');
    // This app's recipe sends them as before; a preset can switch the recipe, and nothing else can.
    expect(calibrateParams(defaults, paths)).toMatchObject({ recipe: 'app', level: 'neuron', jointEpochs: defaults.jointEpochs });
    expect(withPreset(defaults, { recipe: 'paper' }).recipe).toBe('paper');
    expect(withPreset(defaults, { recipe: 'the-best' }).recipe).toBe('app');
    expect(recipeWords.app.choice).toBe("Recommended (this app's recipe)");
    expect(recipeWords.paper.choice).toBe('As in the FAS reference code (to compare with the paper)');
  });

  it('names the output folder after the original model, not the stage-1 folder', () => {
    const none = { paths: [], names: [] };
    expect(defaultOutDir('/home/me/fas/', 'Demo GPT-2 · stage 1', none)).toBe('/home/me/fas/models/Demo GPT-2 · stage 2');
    // A stage-1 folder named by an earlier version of the app.
    expect(defaultOutDir('/home/me/fas/', 'Demo GPT-2 (4.3 M)-stage1-2026-11-28-0900', none)).toBe('/home/me/fas/models/Demo GPT-2 · stage 2');
    expect(defaultOutDir('C:\\Users\\me\\fas', 'gpt2-stage1', none)).toBe('C:\\Users\\me\\fas\\models\\gpt2 · stage 2');
  });

  it('reads the align error of each layer at each stage from the stage each row names, across a resume', () => {
    // As run-calibration.ts reports them (stage 0 before, 1 coarse, 2 fine, 3 joint): a row without a loss
    // when a layer starts, then its loss; here paused in the coarse pass at layer 0 and resumed there.
    const rows: Array<Record<string, number>> = [
      { stage: 0, layer: 0 },
      { stage: 0, layer: 0, alignLoss: 0.4 },
      { stage: 0, layer: 1 },
      { stage: 0, layer: 1, alignLoss: 0.2 },
      { stage: 0 },
      { stage: 1, layer: 0 },
      // resumed: the coarse pass starts layer 0 again
      { stage: 1, layer: 0 },
      { stage: 1, layer: 0, alignLoss: 0.1 },
      { stage: 1, layer: 1 },
      { stage: 1, layer: 1, alignLoss: 0.05 },
      { stage: 2, layer: 0 },
      { stage: 2, layer: 0, alignLoss: 0.09 },
      { stage: 2, layer: 0, alignLoss: 0.07 },
      { stage: 3 },
      { stage: 3, epoch: 1, kl: 0.03 },
      // resumed in the joint pass: it starts again, and its epochs replace the first try's
      { stage: 3 },
      { stage: 3, epoch: 1, kl: 0.02 },
      { stage: 3, epoch: 2, kl: 0.015 },
    ];
    expect(liveAlignErrors(rows, 2)).toEqual({ before: [0.4, 0.2], coarse: [0.1, 0.05], fine: [0.07, null] });
    expect(liveJointKl(rows)).toEqual([0.02, 0.015]);
  });

  it('reads the rows of runs recorded before rows said their stage by their order', () => {
    // A row without a loss when a layer starts, then its loss (and in the fine pass one per epoch); a
    // held-out measurement between stages has no layer.
    const rows: Array<Record<string, number>> = [
      { layer: 0 },
      { layer: 0, alignLoss: 0.4 },
      { layer: 1 },
      { layer: 1, alignLoss: 0.2, etaSeconds: 30 },
      { etaSeconds: 20 },
      { layer: 0, etaSeconds: 20 },
      { layer: 0, alignLoss: 0.1 },
      { layer: 1 },
      { layer: 1, alignLoss: 0.05 },
      { layer: 0 },
      { layer: 0, alignLoss: 0.09 },
      { layer: 0, alignLoss: 0.08 },
      { layer: 0, alignLoss: 0.07 },
      { layer: 1 },
    ];
    expect(liveAlignErrors(rows, 2)).toEqual({ before: [0.4, 0.2], coarse: [0.1, 0.05], fine: [0.07, null] });
    expect(liveJointKl(rows)).toEqual([]);
    expect(liveAlignErrors([], 3)).toEqual({ before: [null, null, null], coarse: [null, null, null], fine: [null, null, null] });
    // A one-layer model still moves on to the next stage at each new start of layer 0.
    expect(liveAlignErrors([{ layer: 0 }, { layer: 0, alignLoss: 1 }, { layer: 0 }, { layer: 0, alignLoss: 0.5 }], 1)).toEqual({
      before: [1],
      coarse: [0.5],
      fine: [null],
    });
  });

  it('reads the KL after each joint epoch, and leaves the per-layer errors as they were', () => {
    // The per-layer stages of a one-layer model, the held-out measurement after the fine pass, then the
    // joint pass: a start row, then one row per epoch with the KL on the calibration text (no layer).
    const perLayer: Array<Record<string, number>> = [
      { layer: 0 },
      { layer: 0, alignLoss: 1 },
      { layer: 0 },
      { layer: 0, alignLoss: 0.5 },
      { layer: 0 },
      { layer: 0, alignLoss: 0.4 },
    ];
    const joint: Array<Record<string, number>> = [
      { etaSeconds: 9 },
      { etaSeconds: 9 },
      { kl: 0.02, etaSeconds: 6 },
      { kl: 0.015, etaSeconds: 3 },
      { kl: Number.NaN },
      { etaSeconds: 1 },
    ];
    expect(liveJointKl([...perLayer, ...joint])).toEqual([0.02, 0.015]);
    expect(liveAlignErrors([...perLayer, ...joint], 1)).toEqual({ before: [1], coarse: [0.5], fine: [0.4] });
  });
});
