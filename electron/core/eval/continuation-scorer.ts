import type { TextTokenizer } from '../model/tokenizer.js';
import type { ContinuationScorer } from './multiple-choice.js';
import type { ScoreFn } from './perplexity.js';

/**
 * Scores a continuation as the sum of its tokens' log-probabilities after the context. Context and
 * continuation are tokenised separately (as lm-evaluation-harness does) and the oldest context
 * tokens are dropped when the pair is longer than the model's context window.
 */
export function continuationScorer(tokenizer: TextTokenizer, score: ScoreFn, maxPositions: number): ContinuationScorer {
  return async (context, continuation) => {
    const start = tokenizer.bosId ?? tokenizer.eosId;
    const contextIds = tokenizer.encode(context, { addSpecialTokens: false });
    const target = tokenizer.encode(continuation, { addSpecialTokens: false });
    if (target.length === 0) throw new Error(`The choice "${continuation}" has no tokens.`);
    let ids = [...(contextIds.length === 0 && start !== null ? [start] : []), ...contextIds, ...target];
    if (ids.length > maxPositions + 1) ids = ids.slice(ids.length - maxPositions - 1);
    const input = Int32Array.from(ids.slice(0, -1));
    const logProbs = await score(input, 1, input.length, Int32Array.from(ids.slice(1)));
    return logProbs.subarray(input.length - target.length).reduce((sum, logProb) => sum + logProb, 0);
  };
}
