import { describe, expect, it } from 'vitest';
import { logSoftmaxAt, perplexity } from '../../../electron/core/eval/perplexity.js';

describe('perplexity', () => {
  it('of a model that predicts uniformly is the vocabulary size', async () => {
    const vocab = 7;
    const forward = async (_ids: Int32Array, batch: number, seq: number) => new Float32Array(batch * seq * vocab);
    const r = await perplexity([1, 2, 3, 4, 5, 6, 0, 1, 2], vocab, forward, { blockSize: 4, batchSize: 1 });
    expect(r.tokens).toBe(8);
    expect(r.perplexity).toBeCloseTo(7, 10);
  });

  it('matches a hand-computed value', async () => {
    // Vocabulary of 2; the model gives the next token probability 0.8 when it repeats the current one.
    const vocab = 2;
    const forward = async (ids: Int32Array) => {
      const out = new Float32Array(ids.length * vocab);
      ids.forEach((id, i) => {
        out[i * vocab + id] = Math.log(0.8);
        out[i * vocab + (1 - id)] = Math.log(0.2);
      });
      return out;
    };
    // Targets after 0,0,1,1: 0 (p .8), 1 (p .2), 1 (p .8), 0 (p .2).
    const r = await perplexity([0, 0, 1, 1, 0], vocab, forward, { blockSize: 2, batchSize: 2 });
    const expected = Math.exp(-(2 * Math.log(0.8) + 2 * Math.log(0.2)) / 4);
    expect(r.perplexity).toBeCloseTo(expected, 6);
    expect(r.perplexity).toBeCloseTo(2.5, 6);
  });

  it('says when the text is too short', async () => {
    await expect(perplexity([1, 2], 3, async () => new Float32Array(), { blockSize: 4, batchSize: 1 })).rejects.toThrow(/2 tokens; at least 5/);
  });

  it('computes log-softmax stably for large logits', () => {
    expect(logSoftmaxAt(Float32Array.of(1000, 1000), 0, 2, 1)).toBeCloseTo(Math.log(0.5), 10);
  });
});
