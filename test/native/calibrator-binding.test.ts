// The native calibrator's JS face (native/index.ts): defaults, checks in words, one call at a
// time, abort and dispose.
import { afterAll, describe, expect, it } from 'vitest';
import { loadNative, type NativeCalibrator } from '../../native/index.js';
import { openModelFolder } from '../../electron/core/model/folder.js';
import { tempDir, writeTinyModel } from '../helpers/tiny-models.js';

describe('native calibrator', async () => {
  const temp = await tempDir();
  afterAll(() => temp.cleanup());
  await writeTinyModel(temp.path, 'gpt2');
  const { spec } = await openModelFolder(temp.path);
  const create = () => loadNative().createCalibrator(spec, { levels: 8, lambdas: [1.5, 2], signed: false, timesteps: 4 });
  const ids = Int32Array.from({ length: 4 * 12 }, (_, i) => (i * 37) % 200);

  it('starts uncalibrated: theta = lambda, v0 = theta / 2', async () => {
    const c = await create();
    expect(c.getNeurons(1)).toEqual({ threshold: Float32Array.of(2), v0: Float32Array.of(1), shape: [1] });
    c.dispose();
  });

  it('explains bad options and values', async () => {
    await expect(loadNative().createCalibrator(spec, { levels: 8, lambdas: [1.5], signed: false, timesteps: 4 })).rejects.toThrow(/1 lambdas for 2 layers/);
    await expect(loadNative().createCalibrator(spec, { levels: 8, lambdas: [1, 1], signed: false, timesteps: 0 })).rejects.toThrow(/timesteps/);
    const c = await create();
    expect(() => c.setNeurons(0, { threshold: Float32Array.of(-1), v0: Float32Array.of(0), shape: [1] })).toThrow(/threshold must be a finite number > 0/);
    expect(() => c.setNeurons(0, { threshold: new Float32Array(5).fill(1), v0: new Float32Array(5), shape: [5] })).toThrow(/do not fit/);
    expect(() => c.getNeurons(2)).toThrow(/layer must be an integer from 0 to 1/);
    await expect(c.alignLoss(0)).rejects.toThrow(/no calibration data/);
    expect(() => c.setData(ids, 4, 13, 2)).toThrow(/not sequences \* seqLen long/);
    await expect(c.startJoint({ positions: 0, lr: 0, alignWeight: 1 })).rejects.toThrow(/lr must be > 0/);
    await expect(c.startJoint({ positions: 0, lr: 1e-3, alignWeight: -1 })).rejects.toThrow(/alignWeight must be >= 0/);
    await expect(c.startJoint({ positions: 0, lr: 1e-3, alignWeight: 1, klReduction: 'sum' as never })).rejects.toThrow(
      /options.klReduction must be one of 'position', 'batchmean'/,
    );
    await expect(c.coarse(0, { choice: 'grid' as never })).rejects.toThrow(/options.choice must be one of 'search', 'reference'/);
    await expect(c.jointEpoch()).rejects.toThrow(/startJoint must come before/);
    c.dispose();
  });

  it('takes one call at a time, stops on abort and refuses calls once disposed', async () => {
    const c: NativeCalibrator = await create();
    c.setData(ids, 4, 12, 2);
    const first = c.coarse(1);
    expect(() => c.getNeurons(0)).toThrow(/busy/);
    await expect(c.alignLoss(0)).rejects.toThrow(/busy/);
    const result = await first;
    expect(result.loss).toBeLessThanOrEqual(result.startLoss);
    expect(c.getNeurons(1)).toEqual({ threshold: Float32Array.of(result.theta), v0: Float32Array.of(result.v0), shape: [1] });

    const stopped = c.coarse(0);
    c.abort();
    await expect(stopped).rejects.toThrow(/aborted/);
    expect(await c.alignLoss(0)).toBeGreaterThan(0); // the next call runs again

    // The joint pass spreads every layer to per-neuron values.
    await c.startJoint({ positions: 0, lr: 1e-3, alignWeight: 1 });
    const epoch = await c.jointEpoch();
    expect(epoch.kl).toBeGreaterThan(0);
    expect(epoch.align).toBeGreaterThan(0);
    expect(c.getNeurons(0).shape).toEqual([64]);

    c.dispose();
    expect(() => c.getNeurons(0)).toThrow(/disposed/);
  });
});
