import { describe, expect, it } from 'vitest';
import { continuationScorer } from '../../../electron/core/eval/continuation-scorer.js';
import type { ScoreFn } from '../../../electron/core/eval/perplexity.js';
import { byteTokenizerConfig, byteTokenizerJson } from '../../../electron/core/model/gpt2-tokenizer.js';
import { TextTokenizer } from '../../../electron/core/model/tokenizer.js';

// Byte-level: each character of these ASCII strings is one token, its byte value.
const tokenizer = new TextTokenizer({ tokenizerJson: byteTokenizerJson(), tokenizerConfig: byteTokenizerConfig(64) });

function recording() {
  const calls: { ids: number[]; targets: number[] }[] = [];
  // Token k of the input predicts its target with log-probability -(k + 1).
  const score: ScoreFn = async (ids, batch, seqLen, targets) => {
    expect([batch, seqLen]).toEqual([1, ids.length]);
    calls.push({ ids: [...ids], targets: [...targets] });
    return Float64Array.from(ids, (_, k) => -(k + 1));
  };
  return { calls, score };
}

describe('continuationScorer', () => {
  it("adds the continuation's tokens' log-probabilities after the context", async () => {
    const { calls, score } = recording();
    expect(await continuationScorer(tokenizer, score, 64)('ab', 'cd')).toBe(-2 - 3);
    expect(calls).toEqual([{ ids: [97, 98, 99], targets: [98, 99, 100] }]);
  });

  it('drops the oldest context tokens when the pair is longer than the context window', async () => {
    const { calls, score } = recording();
    expect(await continuationScorer(tokenizer, score, 2)('ab', 'cd')).toBe(-1 - 2);
    expect(calls).toEqual([{ ids: [98, 99], targets: [99, 100] }]);
  });

  it('refuses a choice without tokens', async () => {
    await expect(continuationScorer(tokenizer, recording().score, 64)('ab', '')).rejects.toThrow('has no tokens');
  });
});
