import { describe, expect, it } from 'vitest';
import { perplexity, type ScoreFn } from '../../../electron/core/eval/perplexity.js';

describe('perplexity', () => {
  it('of a model that predicts uniformly is the vocabulary size', async () => {
    const score: ScoreFn = async (ids) => new Float64Array(ids.length).fill(Math.log(1 / 7));
    const r = await perplexity([1, 2, 3, 4, 5, 6, 0, 1, 2], score, { blockSize: 4, batchSize: 1 });
    expect(r.tokens).toBe(8);
    expect(r.perplexity).toBeCloseTo(7, 10);
  });

  it('matches a hand-computed value', async () => {
    // Vocabulary of 2; the model gives the next token probability 0.8 when it repeats the current one.
    const score: ScoreFn = async (ids, _batch, _seqLen, targets) => Float64Array.from(ids, (id, i) => Math.log(targets[i] === id ? 0.8 : 0.2));
    // Targets after 0,0,1,1: 0 (p .8), 1 (p .2), 1 (p .8), 0 (p .2).
    const r = await perplexity([0, 0, 1, 1, 0], score, { blockSize: 2, batchSize: 2 });
    const expected = Math.exp(-(2 * Math.log(0.8) + 2 * Math.log(0.2)) / 4);
    expect(r.perplexity).toBeCloseTo(expected, 6);
    expect(r.perplexity).toBeCloseTo(2.5, 6);
  });

  it('scores each window of blockSize tokens against the tokens after them, a batch of windows at a time', async () => {
    const calls: { ids: number[]; batch: number; seqLen: number; targets: number[] }[] = [];
    const score: ScoreFn = async (ids, batch, seqLen, targets) => {
      calls.push({ ids: [...ids], batch, seqLen, targets: [...targets] });
      return new Float64Array(ids.length);
    };
    const r = await perplexity([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], score, { blockSize: 3, batchSize: 2 });
    expect(calls).toEqual([
      { ids: [0, 1, 2, 3, 4, 5], batch: 2, seqLen: 3, targets: [1, 2, 3, 4, 5, 6] },
      { ids: [6, 7, 8], batch: 1, seqLen: 3, targets: [7, 8, 9] },
    ]);
    expect(r).toEqual({ perplexity: 1, meanNll: 0, tokens: 9 });
  });

  it('says when the text is too short', async () => {
    await expect(perplexity([1, 2], async () => new Float64Array(), { blockSize: 4, batchSize: 1 })).rejects.toThrow(/2 tokens; at least 5/);
  });
});
