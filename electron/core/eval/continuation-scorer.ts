import type { TextTokenizer } from '../model/tokenizer.js';
import type { ContinuationScorer } from './multiple-choice.js';
import { logSoftmaxAt, type ForwardFn } from './perplexity.js';

/**
 * Scores a continuation as the sum of its tokens' log-probabilities after the context. Context and
 * continuation are tokenised separately (as lm-evaluation-harness does) and the oldest context
 * tokens are dropped when the pair is longer than the model's context window.
 */
export function continuationScorer(tokenizer: TextTokenizer, forward: ForwardFn, vocab: number, maxPositions: number): ContinuationScorer {
  return async (context, continuation) => {
    const start = tokenizer.bosId ?? tokenizer.eosId;
    const contextIds = tokenizer.encode(context, { addSpecialTokens: false });
    const target = tokenizer.encode(continuation, { addSpecialTokens: false });
    if (target.length === 0) throw new Error(`The choice "${continuation}" has no tokens.`);
    let ids = [...(contextIds.length === 0 && start !== null ? [start] : []), ...contextIds, ...target];
    if (ids.length > maxPositions + 1) ids = ids.slice(ids.length - maxPositions - 1);
    const input = Int32Array.from(ids.slice(0, -1));
    const logits = await forward(input, 1, input.length);
    let sum = 0;
    for (let k = 0; k < target.length; k++) {
      const position = input.length - target.length + k;
      sum += logSoftmaxAt(logits, position * vocab, vocab, ids[position + 1]!);
    }
    return sum;
  };
}
