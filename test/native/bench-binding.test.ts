import { describe, expect, it } from 'vitest';
import { loadNative } from '../../native/index.js';

describe('benchSpikeLinear', () => {
  it('times both forms and names the cost model choice', async () => {
    const native = loadNative();
    const sparse = await native.benchSpikeLinear({ inputs: 64, outputs: 16, rows: 2, timesteps: 4, firingRate: 0.05 });
    expect(sparse.eventMs).toBeGreaterThanOrEqual(0);
    expect(sparse.denseMs).toBeGreaterThanOrEqual(0);
    expect(sparse.costModelChooses).toBe('event');
    expect((await native.benchSpikeLinear({ inputs: 64, outputs: 16, rows: 2, timesteps: 4, firingRate: 0.95 })).costModelChooses).toBe('dense');
  });

  it('refuses a firing rate outside [0, 1]', () => {
    expect(() => loadNative().benchSpikeLinear({ inputs: 8, outputs: 8, rows: 1, timesteps: 1, firingRate: 1.5 })).toThrow('firingRate must be from 0 to 1');
  });
});

describe('benchReadBandwidth', () => {
  it('measures a plausible memory read bandwidth', async () => {
    const { bytesPerSecond } = await loadNative().benchReadBandwidth();
    expect(Number.isFinite(bytesPerSecond)).toBe(true);
    expect(bytesPerSecond).toBeGreaterThan(1e8); // any machine since the 1990s reads 100 MB/s
  });
});

describe('benchFmaPeak', () => {
  it('measures a plausible multiply-add peak', async () => {
    const { flopsPerSecond } = await loadNative().benchFmaPeak();
    expect(Number.isFinite(flopsPerSecond)).toBe(true);
    expect(flopsPerSecond).toBeGreaterThan(1e9); // one SSE core at 1 GHz does 8 GFLOP/s
    expect(flopsPerSecond).toBeLessThan(1e13); // no CPU this engine runs on does 10 TFLOP/s: the loop ran
  });
});
