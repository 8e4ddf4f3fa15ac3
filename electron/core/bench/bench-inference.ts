// Inference speed and memory on the benchmark model: prefill of 4 x 256 tokens (the last position's
// logits, and every position's: the vocabulary head over 1024 rows), greedy decode against the limit
// the machine's read bandwidth sets (a decode step reads every weight once), and peak resident
// memory against the weight bytes.
import { loadNative } from '../../../native/index.js';
import { openModelFolder } from '../model/folder.js';

export interface InferenceBench {
  prefillTokensPerSecond: number;
  /** The same prefill with the logits of all 4 x 256 positions. */
  prefillFullLogitsTokensPerSecond: number;
  decodeTokensPerSecond: number;
  /** Measured on the engine's threads, best of 5 sweeps over 256 MiB. */
  readBandwidthBytesPerSecond: number;
  /** Bandwidth over the bytes a decode step reads (the weights): the fastest decode this machine allows. */
  decodeBandwidthLimitTokensPerSecond: number;
  /** decodeTokensPerSecond over that limit. */
  decodeShareOfBandwidthLimit: number;
  peakRssBytes: number;
  weightBytes: number;
  peakRssOverWeights: number;
}

export async function benchInference(dir: string): Promise<InferenceBench> {
  // The engine alone (no tokenizer): the memory target is about what the engine holds.
  const folder = await openModelFolder(dir);
  const engine = await loadNative().loadModel(folder.spec);
  const { vocabSize } = folder.spec;
  const ids = (n: number) => Int32Array.from({ length: n }, (_, i) => (i * 7919) % vocabSize);
  await engine.forward(ids(32), 1, 32, { lastOnly: true }); // warm-up: page in the weights

  const prefillStart = performance.now();
  await engine.forward(ids(4 * 256), 4, 256, { lastOnly: true });
  const prefillSeconds = (performance.now() - prefillStart) / 1000;

  const fullStart = performance.now();
  await engine.forward(ids(4 * 256), 4, 256);
  const fullSeconds = (performance.now() - fullStart) / 1000;

  const session = engine.createSession();
  await session.eval(ids(16));
  const decodeTokens = 32;
  const decodeStart = performance.now();
  await session.generate({ promptIds: [], maxTokens: decodeTokens, temperature: 0 }, () => undefined);
  const decodeSeconds = (performance.now() - decodeStart) / 1000;
  engine.dispose();

  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  const weightBytes = folder.summary.weightBytes;
  const { bytesPerSecond } = await loadNative().benchReadBandwidth();
  const decodeTokensPerSecond = decodeTokens / decodeSeconds;
  const limit = bytesPerSecond / weightBytes;
  return {
    prefillTokensPerSecond: round((4 * 256) / prefillSeconds),
    prefillFullLogitsTokensPerSecond: round((4 * 256) / fullSeconds),
    decodeTokensPerSecond: round(decodeTokensPerSecond),
    readBandwidthBytesPerSecond: Math.round(bytesPerSecond),
    decodeBandwidthLimitTokensPerSecond: round(limit),
    decodeShareOfBandwidthLimit: round(decodeTokensPerSecond / limit, 3),
    peakRssBytes,
    weightBytes,
    peakRssOverWeights: round(peakRssBytes / weightBytes, 3),
  };
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
