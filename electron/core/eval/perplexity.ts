// Perplexity of held-out text: the text is tokenised once, cut into windows of the model's block
// size (each window predicts its own next tokens), and exp(mean negative log-likelihood) is taken
// over every predicted token. Scores come from a caller-supplied function (the engine's
// targetLogProbs in ANN, QCFS or spiking mode).

/** log p(targets[i] | ids of its sequence up to i), [batch, seqLen], for ids and targets [batch, seqLen]. */
export type ScoreFn = (ids: Int32Array, batch: number, seqLen: number, targets: Int32Array) => Promise<Float64Array>;

export interface PerplexityResult {
  perplexity: number;
  /** Mean negative log-likelihood per predicted token, in nats. */
  meanNll: number;
  tokens: number;
}

export interface PerplexityOptions {
  blockSize: number;
  batchSize: number;
  /** Most tokens to score (a cap for long texts); all when absent. */
  maxTokens?: number;
  signal?: AbortSignal;
  onProgress?(fraction: number): void;
}

export async function perplexity(ids: readonly number[], score: ScoreFn, o: PerplexityOptions): Promise<PerplexityResult> {
  const usable = Math.min(ids.length, (o.maxTokens ?? Infinity) + 1);
  // Windows of blockSize + 1 tokens overlapping by one, so every token after the first is predicted once.
  const windows = Math.floor((usable - 1) / o.blockSize);
  if (windows < 1) throw new Error(`The text has ${ids.length} tokens; at least ${o.blockSize + 1} are needed for one window of ${o.blockSize}.`);
  let nll = 0;
  let count = 0;
  for (let first = 0; first < windows; first += o.batchSize) {
    if (o.signal?.aborted) throw new Error('Cancelled');
    const batch = Math.min(o.batchSize, windows - first);
    const from = first * o.blockSize;
    const input = Int32Array.from(ids.slice(from, from + batch * o.blockSize));
    const targets = Int32Array.from(ids.slice(from + 1, from + 1 + batch * o.blockSize));
    for (const logProb of await score(input, batch, o.blockSize, targets)) nll -= logProb;
    count += targets.length;
    o.onProgress?.(Math.min(1, (first + batch) / windows));
  }
  const meanNll = nll / count;
  return { perplexity: Math.exp(meanNll), meanNll, tokens: count };
}
