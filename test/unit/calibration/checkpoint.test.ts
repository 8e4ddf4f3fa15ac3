import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CALIBRATION_STATE_FILE, loadCalibrationCheckpoint, saveCalibrationCheckpoint } from '../../../electron/core/calibration/checkpoint.js';
import type { CalibrationProgress } from '../../../electron/core/calibration/report.js';
import type { SpikingWeights } from '../../../electron/core/spiking/spiking-weights.js';

const progress: CalibrationProgress = {
  layers: [
    { layer: 0, lambda: 2, before: 0.01, coarse: { theta: 1.8, v0: 0.9, loss: 0.008, startLoss: 0.01, referenceLoss: 0.05, kept: true }, fine: null },
    { layer: 1, lambda: 1.5, before: 0.03, coarse: null, fine: null },
  ],
  calibrationKl: 0.1,
  evaluations: { before: { qcfsPerplexity: 10, snnPerplexity: 14, kl: 0.2, tokens: 100 } },
};

const weights: SpikingWeights = {
  lambdas: Float32Array.of(2, 1.5),
  neurons: [
    { threshold: Float32Array.of(1.8), v0: Float32Array.of(0.9), shape: [1] },
    { threshold: Float32Array.of(1.5), v0: Float32Array.of(0.75), shape: [1] },
  ],
};

describe('calibration checkpoint', () => {
  it("saves and restores the stage, the next layer, the report so far and every layer's neurons", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'fas-cal-')), 'checkpoint');
    await saveCalibrationCheckpoint(dir, { stage: 'coarse', layer: 1, settings: { seed: 3 }, progress }, weights);
    const loaded = await loadCalibrationCheckpoint(dir, 2, 4);
    expect(loaded!.state).toMatchObject({ stage: 'coarse', layer: 1, settings: { seed: 3 }, progress });
    expect(loaded!.weights).toEqual(weights);
  });

  it('is absent, or explained when damaged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fas-cal-'));
    expect(await loadCalibrationCheckpoint(dir, 2, 4)).toBeNull();
    writeFileSync(join(dir, CALIBRATION_STATE_FILE), '{ not json');
    await expect(loadCalibrationCheckpoint(dir, 2, 4)).rejects.toThrow(/cannot be used: calibration_state.json is not valid JSON.*Start again/);
    writeFileSync(join(dir, CALIBRATION_STATE_FILE), JSON.stringify({ format: 'fas-calibration-state', version: 1 }));
    await expect(loadCalibrationCheckpoint(dir, 2, 4)).rejects.toThrow(/not a calibration state this app wrote/);
  });
});
