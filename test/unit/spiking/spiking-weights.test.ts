import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../../electron/core/model/safetensors.js';
import { readSpikingWeights, spikingTensors, type SpikingWeights } from '../../../electron/core/spiking/spiking-weights.js';

const dir = () => mkdtempSync(join(tmpdir(), 'fas-spw-'));

describe('spiking.safetensors', () => {
  it('round-trips lambdas and per-layer, per-neuron and per-position neurons', async () => {
    const d = dir();
    const weights: SpikingWeights = {
      lambdas: Float32Array.of(2, 1.5, 0.75),
      neurons: [
        { threshold: Float32Array.of(1.2), v0: Float32Array.of(0.6), shape: [1] },
        { threshold: Float32Array.of(1, 2, 3, 4), v0: Float32Array.of(0.5, 1, 1.5, 2), shape: [4] },
        { threshold: new Float32Array(8).fill(0.5), v0: new Float32Array(8).fill(0.25), shape: [2, 4] },
      ],
    };
    await writeSafetensors(join(d, 'spiking.safetensors'), spikingTensors(weights));
    expect(await readSpikingWeights(d, 3, 4, true)).toEqual(weights);
    expect(await readSpikingWeights(d, 3, 4, false)).toEqual({ lambdas: weights.lambdas, neurons: null });
  });

  it('explains missing, mis-shaped and non-positive thresholds', async () => {
    const d = dir();
    await writeSafetensors(join(d, 'spiking.safetensors'), spikingTensors({ lambdas: Float32Array.of(1, -1), neurons: null }));
    await expect(readSpikingWeights(d, 3, 4, false)).rejects.toThrow(/layers\.1\.qcfs\.lambda is -1; thresholds must be positive/);
    await writeSafetensors(join(d, 'spiking.safetensors'), spikingTensors({ lambdas: Float32Array.of(1), neurons: null }));
    await expect(readSpikingWeights(d, 2, 4, false)).rejects.toThrow(/"layers\.1\.qcfs\.lambda" is missing/);
    await writeSafetensors(
      join(d, 'spiking.safetensors'),
      spikingTensors({ lambdas: Float32Array.of(1), neurons: [{ threshold: Float32Array.of(1, 1, 1), v0: Float32Array.of(0, 0, 0), shape: [3] }] }),
    );
    await expect(readSpikingWeights(d, 1, 4, true)).rejects.toThrow(/expected \[1\], \[4\] or \[positions, 4\]/);
    await expect(readSpikingWeights(dir(), 1, 4, false)).rejects.toThrow(/missing or damaged/);
  });
});
