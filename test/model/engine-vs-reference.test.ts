// The C++ engine against the independent float64 reference (test/reference), on tiny models of
// every supported family and variant written in exact Hugging Face layout.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../electron/core/inference/loaded-model.js';
import { referenceForward } from '../reference/forward.js';
import { TINY_VARIANTS, tempDir, writeTinyModel, type TinyModelOptions } from '../helpers/tiny-models.js';

const IDS = [256, 72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100];

/** Largest |a - b| relative to the largest |b|: one number that says how close two logit tables are. */
function normalisedError(actual: Float32Array, expected: Float64Array[]): number {
  let maxDiff = 0;
  let maxRef = 0;
  expected.forEach((row, p) =>
    row.forEach((value, v) => {
      maxDiff = Math.max(maxDiff, Math.abs(actual[p * row.length + v]! - value));
      maxRef = Math.max(maxRef, Math.abs(value));
    }),
  );
  return maxDiff / maxRef;
}

describe('engine logits match the reference implementation', async () => {
  const temp = await tempDir();
  afterAll(() => temp.cleanup());

  const cases: Array<[string, (typeof TINY_VARIANTS)[number], TinyModelOptions]> = [
    ...TINY_VARIANTS.map((v) => [v, v, {}] as [string, (typeof TINY_VARIANTS)[number], TinyModelOptions]),
    ['gpt2 in F16', 'gpt2', { dtype: 'F16' }],
    ['llama in BF16', 'llama', { dtype: 'BF16' }],
    ['qwen2 sharded', 'qwen2', { maxShardBytes: 4096 }],
  ];
  for (const [name, variant, options] of cases) {
    it(name, async () => {
      const dir = join(temp.path, name.replace(/\W+/g, '-'));
      await writeTinyModel(dir, variant, options);
      const model = await loadModel(dir);
      const logits = await model.engine.forward(Int32Array.from(IDS), 1, IDS.length);
      const reference = await referenceForward(dir, IDS);
      expect(normalisedError(logits, reference)).toBeLessThan(1e-4);
      // Three copies in one batch: 39 rows take the packed GEMM instead of the dot-product tiles.
      const batched = await model.engine.forward(Int32Array.from([...IDS, ...IDS, ...IDS]), 3, IDS.length);
      const perSequence = batched.length / 3;
      for (let b = 0; b < 3; b++) {
        expect(normalisedError(batched.subarray(b * perSequence, (b + 1) * perSequence), reference)).toBeLessThan(1e-4);
      }
      model.engine.dispose();
    });
  }
});
