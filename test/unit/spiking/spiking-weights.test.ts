import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../../electron/core/model/safetensors.js';
import {
  readAllScopeWeights,
  readSpikingWeights,
  spikingTensors,
  type AllScopeWeights,
  type SpikingWeights,
} from '../../../electron/core/spiking/spiking-weights.js';

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

  // Two layers of a model with grouped-query attention: hidden 4, 2 heads of 2 (q width 4), 1 kv head (v width 2), FFN 6.
  const dims = { numLayers: 2, hiddenSize: 4, ffnSize: 6, numHeads: 2, numKvHeads: 1, headDim: 2 };
  const allScope = (): AllScopeWeights => ({
    layers: [0, 1].map((i) => ({
      attn_in: Float32Array.of(1, 2, 3, 4),
      q: Float32Array.of(0.5, 0.5, 0.5, 0.5 + i),
      v: Float32Array.of(0.25, 4),
      attn_out: Float32Array.of(1, 1, 1, 1),
      ffn_in: Float32Array.of(2, 2, 2, 2),
      qcfs: i === 0 ? Float32Array.of(1.5) : Float32Array.of(1, 2, 3, 4, 5, 6),
    })),
    headIn: Float32Array.of(3, 3, 3, 3),
  });

  it('round-trips scope all thresholds under the format 2 names', async () => {
    const d = dir();
    const weights = allScope();
    const tensors = spikingTensors(weights);
    expect(Object.keys(tensors).sort()).toEqual(
      ['head_in.lambda', ...[0, 1].flatMap((i) => ['attn_in', 'q', 'v', 'attn_out', 'ffn_in', 'qcfs'].map((s) => `layers.${i}.${s}.lambda`))].sort(),
    );
    expect(tensors['layers.1.qcfs.lambda']!.shape).toEqual([6]);
    expect(tensors['layers.0.v.lambda']!.shape).toEqual([2]);
    await writeSafetensors(join(d, 'spiking.safetensors'), tensors);
    expect(await readAllScopeWeights(d, dims)).toEqual(weights);
  });

  it('refuses scope all thresholds that are missing, mis-shaped, not positive or not finite', async () => {
    const d = dir();
    const check = async (change: (w: AllScopeWeights) => void, message: RegExp) => {
      const w = allScope();
      change(w);
      await writeSafetensors(join(d, 'spiking.safetensors'), spikingTensors(w));
      await expect(readAllScopeWeights(d, dims)).rejects.toThrow(message);
    };
    await check((w) => (w.layers[1]!.v = Float32Array.of(1, 1, 1, 1)), /layers\.1\.v\.lambda has shape \[4\], expected \[2\]/);
    await check((w) => (w.layers[0]!.qcfs = Float32Array.of(1, 1)), /layers\.0\.qcfs\.lambda has shape \[2\], expected \[1\] or \[6\]/);
    await check((w) => (w.layers[0]!.attn_out[2] = 0), /layers\.0\.attn_out\.lambda\[2\] is 0; thresholds must be positive/);
    await check((w) => (w.headIn[1] = -1), /head_in\.lambda\[1\] is -1/);
    await check((w) => (w.layers[1]!.ffn_in[0] = Number.NaN), /"layers\.1\.ffn_in\.lambda" holds NaN or infinite values/);
    await check((w) => (w.layers[0]!.q[0] = Number.POSITIVE_INFINITY), /"layers\.0\.q\.lambda" holds NaN or infinite values/);
    await check((w) => w.layers.pop(), /"layers\.1\.attn_in\.lambda" is missing/);
  });
});
