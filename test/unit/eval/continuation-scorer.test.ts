import { describe, expect, it } from 'vitest';
import { continuationScorer } from '../../../electron/core/eval/continuation-scorer.js';
import { byteTokenizerConfig, byteTokenizerJson } from '../../../electron/core/model/gpt2-tokenizer.js';
import { TextTokenizer } from '../../../electron/core/model/tokenizer.js';
import type { NativeSession } from '../../../native/index.js';

// Byte-level: each character of these ASCII strings is one token, its byte value.
const tokenizer = new TextTokenizer({ tokenizerJson: byteTokenizerJson(), tokenizerConfig: byteTokenizerConfig(64) });

/** A session that records its calls; each scored token's log-probability is -(its position in the context + 1). */
function recordingSession() {
  const calls: string[] = [];
  let length = 0;
  const session = {
    reset: () => {
      calls.push('reset');
      length = 0;
    },
    eval: async (ids: Int32Array) => {
      calls.push(`eval ${[...ids]}`);
      length += ids.length;
      return new Float32Array();
    },
    score: async (ids: Int32Array, targets: Int32Array) => {
      calls.push(`score ${[...ids]} -> ${[...targets]}`);
      const scores = Float64Array.from(ids, (_, i) => -(length + i + 1));
      length += ids.length;
      return scores;
    },
    truncate: (to: number) => {
      calls.push(`truncate ${to}`);
      length = Math.min(length, to);
    },
  } as unknown as NativeSession;
  return { calls, session };
}

describe('continuationScorer', () => {
  it("runs the context once and scores each continuation's tokens after it", async () => {
    const { calls, session } = recordingSession();
    // "ab" then "cd": position 1 (b) predicts c, position 2 predicts d: -2 - 3. "ab" then "e": -2.
    expect(await continuationScorer(tokenizer, session, 64)('ab', ['cd', 'e'])).toEqual([-2 - 3, -2]);
    expect(calls).toEqual(['reset', 'eval 97', 'score 98,99 -> 99,100', 'truncate 1', 'score 98 -> 101', 'truncate 1']);
  });

  it('drops the oldest context tokens so that the context and the longest continuation fit the window', async () => {
    const { calls, session } = recordingSession();
    // A window of 3: "d" + "ef" keeps 2 context tokens ("cd"), the shorter choice the same.
    expect(await continuationScorer(tokenizer, session, 3)('abcd', ['ef', 'g'])).toEqual([-2 - 3, -2]);
    expect(calls).toEqual(['reset', 'eval 99', 'score 100,101 -> 101,102', 'truncate 1', 'score 100 -> 103', 'truncate 1']);
  });

  it('scores a choice longer than the window on its own last tokens, and the others after the context', async () => {
    const { calls, session } = recordingSession();
    // A window of 2: "cdef" keeps "def" (d predicts e, e predicts f: -1 - 2); "g" follows the context's last 2 tokens.
    expect(await continuationScorer(tokenizer, session, 2)('ab', ['g', 'cdef', 'h'])).toEqual([-2, -1 - 2, -2]);
    expect(calls).toEqual([
      'reset',
      'eval 97',
      'score 98 -> 103',
      'truncate 1',
      'reset',
      'score 100,101 -> 101,102',
      'reset',
      'eval 97',
      'score 98 -> 104',
      'truncate 1',
    ]);
  });

  it('refuses a choice without tokens', async () => {
    await expect(continuationScorer(tokenizer, recordingSession().session, 64)('ab', [' x', ''])).rejects.toThrow('has no tokens');
  });
});
