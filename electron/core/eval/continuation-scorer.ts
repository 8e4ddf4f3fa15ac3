import type { NativeSession } from '../../../native/index.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import type { ContinuationScorer } from './multiple-choice.js';

/**
 * Scores each continuation as the sum of its tokens' log-probabilities after the context. Context and
 * continuations are tokenised separately (as lm-evaluation-harness does). The context runs once into
 * the session's cache and each continuation is scored after it, then cut off again, so an item's
 * passage is computed once, not once per choice. The oldest context tokens are dropped when the
 * context and the longest continuation do not fit in the model's context window.
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
    // The last continuation token is only predicted: context + longest - 1 positions must fit.
    const room = maxPositions + 1 - Math.max(...targets.map((t) => t.length));
    if (all.length === 0 || room < 1) {
      throw new Error(
        all.length === 0
          ? 'A multiple-choice item needs a context: this one is empty, and the tokenizer has no start-of-text token to stand for it.'
          : `A choice of ${maxPositions + 1 - room} tokens does not fit in the model's ${maxPositions}-position context after any of the context.`,
      );
    }
    const kept = all.slice(Math.max(0, all.length - room));
    const last = kept[kept.length - 1]!;
    session.reset();
    if (kept.length > 1) await session.eval(Int32Array.from(kept.slice(0, -1)));
    const sums: number[] = [];
    for (const target of targets) {
      const scores = await session.score(Int32Array.from([last, ...target.slice(0, -1)]), Int32Array.from(target));
      sums.push(scores.reduce((sum, score) => sum + score, 0));
      session.truncate(kept.length - 1);
    }
    return sums;
  };
}
