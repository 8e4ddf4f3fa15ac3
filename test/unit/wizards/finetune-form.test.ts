// The fine-tuning wizard's checks (no browser): every bound comes from the 'finetune' job's schema
// ('jobs.limits'), nested QCFS settings included, and is said in words.
import { describe, expect, it } from 'vitest';
import { paramLimits } from '../../../electron/core/api/param-limits.js';
import { paramDefaults } from '../../../electron/core/jobs/defaults.js';
import { jobKinds } from '../../../electron/core/jobs/kinds.js';
import { finetuneSettings } from '../../../electron/core/training/settings.js';
import { finetuneParams, formLimits, settingsFromDefaults, settingsProblem } from '../../../renderer/src/wizards/finetune/finetune-form.js';

const defaults = settingsFromDefaults(paramDefaults(jobKinds, 'finetune'));
const limits = paramLimits(jobKinds, 'finetune');

describe('fine-tuning form', () => {
  it('accepts its defaults, which become the same job', () => {
    expect(settingsProblem(defaults, 1024, limits)).toBeNull();
    const paths = { modelDir: '/m', dataPath: '/t.txt', outDir: '/o' };
    expect(finetuneSettings.parse(finetuneParams(defaults, paths))).toEqual(finetuneSettings.parse({ ...paths, blockSize: 128 }));
  });

  it("checks each setting against the schema's bounds, in words", () => {
    expect(settingsProblem({ ...defaults, levels: 65 }, 1024, limits)).toBe('L must be a whole number from 1 to 64.');
    expect(settingsProblem({ ...defaults, lr: 0 }, 1024, limits)).toBe('The learning rate must be a number above 0, at most 1.');
    expect(settingsProblem({ ...defaults, batchSize: 5000 }, 1024, limits)).toBe('The batch size must be a whole number from 1 to 4,096.');
    expect(settingsProblem({ ...defaults, initialLambda: 0 }, 1024, limits)).toBe('The initial lambda must be a number of at least 0.001.');
    expect(settingsProblem(defaults, 64, limits)).toBe("The block size can be at most 64, the model's context length.");
    expect(formLimits(limits).levels).toEqual({ min: 1, above: false, max: 64, whole: true });
  });
});
