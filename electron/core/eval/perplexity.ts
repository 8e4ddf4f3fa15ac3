// Perplexity of held-out text: the text is tokenised once, cut into windows of the model's block
// size (each window predicts its own next tokens), and exp(mean negative log-likelihood) is taken
// over every predicted token. Logits come from a caller-supplied forward (ANN, QCFS or spiking).

/** Logits [batch, seqLen, vocab] for ids [batch, seqLen]. */
export type ForwardFn = (ids: Int32Array, batch: number, seqLen: number) => Promise<Float32Array>;

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

export async function perplexity(ids: readonly number[], vocab: number, forward: ForwardFn, o: PerplexityOptions): Promise<PerplexityResult> {
  const usable = Math.min(ids.length, (o.maxTokens ?? Infinity) + 1);
  // Windows of blockSize + 1 tokens overlapping by one, so every token after the first is predicted once.
  const windows = Math.floor((usable - 1) / o.blockSize);
  if (windows < 1) throw new Error(`The text has ${ids.length} tokens; at least ${o.blockSize + 1} are needed for one window of ${o.blockSize}.`);
  let nll = 0;
  let count = 0;
  for (let first = 0; first < windows; first += o.batchSize) {
    if (o.signal?.aborted) throw new Error('Cancelled');
    const batch = Math.min(o.batchSize, windows - first);
    const input = new Int32Array(batch * o.blockSize);
    for (let b = 0; b < batch; b++) {
      const start = (first + b) * o.blockSize;
      for (let t = 0; t < o.blockSize; t++) input[b * o.blockSize + t] = ids[start + t]!;
    }
    const logits = await forward(input, batch, o.blockSize);
    for (let b = 0; b < batch; b++) {
      const start = (first + b) * o.blockSize;
      for (let t = 0; t < o.blockSize; t++) {
        nll -= logSoftmaxAt(logits, (b * o.blockSize + t) * vocab, vocab, ids[start + t + 1]!);
        count++;
      }
    }
    o.onProgress?.(Math.min(1, (first + batch) / windows));
  }
  const meanNll = nll / count;
  return { perplexity: Math.exp(meanNll), meanNll, tokens: count };
}

/** log softmax(row)[target], computed stably. */
export function logSoftmaxAt(logits: Float32Array, offset: number, vocab: number, target: number): number {
  let max = -Infinity;
  for (let v = 0; v < vocab; v++) max = Math.max(max, logits[offset + v]!);
  let sum = 0;
  for (let v = 0; v < vocab; v++) sum += Math.exp(logits[offset + v]! - max);
  return logits[offset + target]! - max - Math.log(sum);
}
