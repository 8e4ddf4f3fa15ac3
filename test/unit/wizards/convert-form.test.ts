// The conversion wizard's form logic (no browser): defaults from the 'convert' job kind's schema and
// back into the same job, the checks in words against the schema's bounds, the memory estimates each scope needs, and presets.
import { describe, expect, it } from 'vitest';
import { paramLimits } from '../../../electron/core/api/param-limits.js';
import { paramDefaults } from '../../../electron/core/jobs/defaults.js';
import { jobKinds } from '../../../electron/core/jobs/kinds.js';
import { convertSettings } from '../../../electron/core/pipeline/convert.js';
import { convertParams, estimatesNeeded, settingsFromDefaults, settingsProblem, withPreset } from '../../../renderer/src/wizards/convert/convert-form.js';

const defaults = settingsFromDefaults(paramDefaults(jobKinds, 'convert'));
const limits = paramLimits(jobKinds, 'convert');
const paths = { modelDir: '/m', dataPath: '/t.txt', outDir: '/w/models/m' };

describe('conversion form', () => {
  it('starts from the job kind’s defaults and turns them back into the same job', () => {
    expect(defaults).toEqual({
      scope: 'ffn',
      timesteps: 8,
      steps: 60,
      batchSize: 8,
      blockSize: 128,
      level: 'neuron',
      samples: 32,
      seed: 1,
      evalTimesteps: [4, 8],
    });
    expect(convertSettings.parse(convertParams(defaults, paths))).toEqual(convertSettings.parse({ ...paths, blockSize: 128 }));
  });

  it('always measures the chosen T, besides the usual ones', () => {
    expect(convertParams({ ...defaults, timesteps: 2, scope: 'all' }, paths)).toMatchObject({ scope: 'all', timesteps: 2, evalTimesteps: [2, 4, 8] });
    expect(convertParams({ ...defaults, timesteps: 16 }, paths).evalTimesteps).toEqual([4, 8, 16]);
  });

  it('says what is wrong in words', () => {
    expect(settingsProblem(defaults, 1024, limits)).toBeNull();
    expect(settingsProblem({ ...defaults, timesteps: 2048 }, 1024, limits)).toBe('T must be a whole number from 1 to 1,024.');
    expect(settingsProblem({ ...defaults, samples: 0 }, 1024, limits)).toBe('Calibration samples must be a whole number from 1 to 100,000.');
    expect(settingsProblem({ ...defaults, steps: 1.5 }, 1024, limits)).toBe('Steps must be a whole number of at least 1.');
    expect(settingsProblem(defaults, 64, limits)).toBe("The block size can be at most 64, the model's context length.");
  });

  it('needs a memory estimate for stage 2 only where it calibrates', () => {
    expect(estimatesNeeded(defaults)).toBe(2);
    expect(estimatesNeeded({ ...defaults, scope: 'all' })).toBe(1);
  });

  it('takes from a preset only the settings it knows, with the right types', () => {
    expect(withPreset(defaults, { scope: 'all', level: 'layer', timesteps: 4, evalTimesteps: [1, 2], stray: 1 })).toEqual({
      ...defaults,
      scope: 'all',
      level: 'layer',
      timesteps: 4,
      evalTimesteps: [1, 2],
    });
    expect(withPreset(defaults, { scope: 'some', level: 'all', steps: '5', evalTimesteps: [0] })).toEqual(defaults);
  });
});
