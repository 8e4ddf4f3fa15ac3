import type { NativeSession } from '../../../native/index.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import type { ContinuationScorer } from './multiple-choice.js';

const sum = (values: Float64Array) => values.reduce((total, value) => total + value, 0);

/**
 * Scores each continuation as the sum of its tokens' log-probabilities after the context. Context and
 * continuations are tokenised separately (as lm-evaluation-harness does). The context runs once into
 * the session's cache and each continuation is scored after it, then cut off again, so an item's
 * passage is computed once, not once per choice. The oldest context tokens are dropped so that the
 * context and the longest continuation fit in the model's context window; a continuation longer than
 * the window is scored on its own last tokens, as lm-evaluation-harness cuts a request.
 */
export function continuationScorer(tokenizer: TextTokenizer, session: NativeSession, maxPositions: number): ContinuationScorer {
  return async (context, continuations) => {
    const targets = continuations.map((continuation) => {
      const ids = tokenizer.encode(continuation, { addSpecialTokens: false });
      if (ids.length === 0) throw new Error(`The choice "${continuation}" has no tokens.`);
      return ids;
    });
    const start = tokenizer.bosId ?? tokenizer.eosId;
    const encoded = tokenizer.encode(context, { addSpecialTokens: false });
    const all = encoded.length === 0 && start !== null ? [start] : encoded;
    if (all.length === 0) {
      throw new Error('A multiple-choice item needs a context: this one is empty, and the tokenizer has no start-of-text token to stand for it.');
    }
    // The last token of a continuation is only predicted: context + continuation - 1 positions must fit.
    const fits = (target: number[]) => target.length <= maxPositions;
    const kept = all.slice(Math.max(0, all.length - (maxPositions + 1 - Math.max(0, ...targets.filter(fits).map((t) => t.length)))));
    let primed = false; // the session holds kept's tokens but the last
    const sums: number[] = [];
    for (const target of targets) {
      if (fits(target)) {
        if (!primed) {
          session.reset();
          if (kept.length > 1) await session.eval(Int32Array.from(kept.slice(0, -1)));
          primed = true;
        }
        sums.push(sum(await session.score(Int32Array.from([kept[kept.length - 1]!, ...target.slice(0, -1)]), Int32Array.from(target))));
        session.truncate(kept.length - 1);
      } else {
        const ids = target.slice(-(maxPositions + 1));
        session.reset();
        primed = false;
        sums.push(sum(await session.score(Int32Array.from(ids.slice(0, -1)), Int32Array.from(ids.slice(1)))));
      }
    }
    return sums;
  };
}
