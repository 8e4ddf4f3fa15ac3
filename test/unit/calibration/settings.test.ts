import { describe, expect, it } from 'vitest';
import { calibrateSettings } from '../../../electron/core/calibration/settings.js';

describe('calibration settings', () => {
  const paths = { modelDir: 'm', dataPath: 'd', outDir: 'o' };

  it('defaults to per-neuron calibration at T = 8 with Adam at 3e-3', () => {
    expect(calibrateSettings.parse(paths)).toMatchObject({ timesteps: 8, level: 'neuron', samples: 32, lr: 3e-3, resume: false });
  });

  it('takes per-position values only with per-neuron calibration', () => {
    expect(calibrateSettings.parse({ ...paths, maxPositions: 64 }).maxPositions).toBe(64);
    const bad = calibrateSettings.safeParse({ ...paths, level: 'layer', maxPositions: 64 });
    expect(bad.error?.issues[0]?.message).toMatch(/needs level "neuron"/);
  });

  it('refuses out-of-range values', () => {
    expect(calibrateSettings.safeParse({ ...paths, timesteps: 0 }).success).toBe(false);
    expect(calibrateSettings.safeParse({ ...paths, level: 'position' }).success).toBe(false);
    expect(calibrateSettings.safeParse({ ...paths, lr: 0 }).success).toBe(false);
  });
});
