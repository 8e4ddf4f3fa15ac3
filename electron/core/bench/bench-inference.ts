// Inference speed and memory on the benchmark model: prefill of 4 x 256 tokens, greedy decode, and
// peak resident memory against the weight bytes (benchInference, run on the F32 folder and on the
// same weights stored as F16, which the engine keeps in 16 bits: a decode step reads half the
// bytes); the same prefill with every position's logits (the vocabulary head over 1024 rows) and
// evaluation's scoring of those tokens, the machine's read bandwidth, which limits decoding since a
// decode step reads every weight once, and its multiply-add peak, which limits the prefill and
// training (benchInferenceLimits). They run in separate processes, so the 206 MB of logits and the
// bandwidth probe's buffer stay out of the others' peak memory; inferenceReport joins them.
import { loadNative, type NativeModel } from '../../../native/index.js';
import { openModelFolder } from '../model/folder.js';
import { bestSeconds } from './best-seconds.js';
import { round } from './round.js';

export interface InferenceBench {
  /** The prefill of 4 x 256 tokens with the last position's logits, best of 3. */
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  /** The whole process's peak resident memory (Node itself included). */
  peakRssBytes: number;
  /** The weights' bytes in the folder's files. */
  weightBytes: number;
  peakRssOverWeights: number;
  /** The peak above the resident memory just before the engine loaded the model (Node, the addon, the folder's description): the engine's part. */
  peakRssAboveStartOverWeights: number;
}

export interface InferenceLimits {
  /** The prefill of 4 x 256 tokens with the logits of every position, best of 3. */
  prefillFullLogitsTokensPerSecond: number;
  /** Evaluation's scoring of the same tokens (targetLogProbs: that prefill, each next token's log-probability taken in the engine), best of 3. */
  scoreTokensPerSecond: number;
  /** Measured on the engine's threads, best of 5 sweeps over 256 MiB. */
  readBandwidthBytesPerSecond: number;
  /** Floating-point operations of that prefill per token: twice its multiply-adds, as the engine counts them (attention over the causal keys only). */
  prefillFlopsPerToken: number;
  /** The multiply-add peak on the engine's threads (a multiply-add counts two), best of 20 runs: the limit of the prefill and of training. */
  fmaPeakFlopsPerSecond: number;
}

/** Greedy decode of the F32 and the F16 benchmark model in one process, in alternating rounds. */
export interface DecodeComparison {
  f32TokensPerSecond: number;
  f16TokensPerSecond: number;
}

export interface InferenceReport extends InferenceBench, InferenceLimits {
  /** Bandwidth over the bytes a decode step reads (the weights): the fastest decode this machine allows. */
  decodeBandwidthLimitTokensPerSecond: number;
  /** decodeTokensPerSecond over that limit. */
  decodeShareOfBandwidthLimit: number;
  /** Greedy decode of the benchmark model stored as F16 (benchDecodeF16VsF32: beside the F32 one, in one process). */
  decodeF16TokensPerSecond: number;
  /** It over the F32 decode measured beside it. */
  decodeF16OverF32: number;
  /** Everything benchInference measured on the F16 folder, in a process of its own (its peak memory). */
  f16: InferenceBench;
  /** The prefill with every position's logits: its operations per second over the multiply-add peak. */
  prefillFullLogitsShareOfFmaPeak: number;
}

const ids = (n: number, vocabSize: number) => Int32Array.from({ length: n }, (_, i) => (i * 7919) % vocabSize);

/** The best of 3 prefills of 4 x 256 tokens, as the onnxruntime anchor measures its own, and the multiply-adds the engine counts for one. */
async function bestPrefill(engine: NativeModel, vocabSize: number, lastOnly: boolean): Promise<{ seconds: number; annMacsPerToken: number }> {
  const input = ids(4 * 256, vocabSize);
  let annMacsPerToken = 0;
  const seconds = await bestSeconds(3, async () => {
    annMacsPerToken = (await engine.forwardWithStats(input, 4, 256, { lastOnly })).stats.annMacsPerToken;
  });
  return { seconds, annMacsPerToken };
}

export async function benchInference(dir: string): Promise<InferenceBench> {
  // The engine alone (no tokenizer): the memory target is about what the engine holds.
  const folder = await openModelFolder(dir);
  const native = loadNative();
  const startRssBytes = process.memoryUsage.rss(); // Node, the addon and the folder's description, before the engine loads the model
  const engine = await native.loadModel(folder.spec);
  const { vocabSize } = folder.spec;
  await engine.forward(ids(32, vocabSize), 1, 32, { lastOnly: true }); // warm-up: page in the weights

  const prefill = await bestPrefill(engine, vocabSize, true);

  const session = engine.createSession();
  await session.eval(ids(16, vocabSize));
  const decodeTokens = 32;
  const decodeStart = performance.now();
  await session.generate({ promptIds: [], maxTokens: decodeTokens, temperature: 0 }, () => undefined);
  const decodeSeconds = (performance.now() - decodeStart) / 1000;
  engine.dispose();

  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  const weightBytes = folder.summary.weightBytes;
  return {
    prefillTokensPerSecond: round((4 * 256) / prefill.seconds),
    decodeTokensPerSecond: round(decodeTokens / decodeSeconds),
    peakRssBytes,
    weightBytes,
    peakRssOverWeights: round(peakRssBytes / weightBytes, 3),
    peakRssAboveStartOverWeights: round((peakRssBytes - startRssBytes) / weightBytes, 3),
  };
}

export async function benchInferenceLimits(dir: string): Promise<InferenceLimits> {
  const folder = await openModelFolder(dir);
  const engine = await loadNative().loadModel(folder.spec);
  const { vocabSize } = folder.spec;
  await engine.forward(ids(32, vocabSize), 1, 32, { lastOnly: true }); // warm-up: page in the weights
  const prefill = await bestPrefill(engine, vocabSize, false);
  const tokens = ids(4 * 256 + 1, vocabSize); // the prefill's tokens, each scored against the one after it
  const scoreSeconds = await bestSeconds(3, () => engine.targetLogProbs(tokens.subarray(0, -1), 4, 256, tokens.subarray(1)));
  engine.dispose();
  const { bytesPerSecond } = await loadNative().benchReadBandwidth();
  const { flopsPerSecond } = await loadNative().benchFmaPeak();
  return {
    prefillFullLogitsTokensPerSecond: round((4 * 256) / prefill.seconds),
    scoreTokensPerSecond: round((4 * 256) / scoreSeconds),
    readBandwidthBytesPerSecond: Math.round(bytesPerSecond),
    prefillFlopsPerToken: 2 * prefill.annMacsPerToken,
    fmaPeakFlopsPerSecond: Math.round(flopsPerSecond),
  };
}

/**
 * The two folders' decode side by side: both models loaded in one process, then rounds of 8 greedy
 * tokens alternating between them, the best round of each, so a load that comes and goes on a
 * shared machine weighs on both alike.
 */
export async function benchDecodeF16VsF32(f32Dir: string, f16Dir: string): Promise<DecodeComparison> {
  const native = loadNative();
  const models = await Promise.all(
    [f32Dir, f16Dir].map(async (dir) => {
      const { spec } = await openModelFolder(dir);
      const engine = await native.loadModel(spec);
      const session = engine.createSession();
      await session.eval(ids(16, spec.vocabSize)); // pages in the weights
      return { engine, session };
    }),
  );
  const tokens = 8;
  const best = [0, 0];
  for (let round = 0; round < 5; round++) {
    for (const [i, { session }] of models.entries()) {
      const start = performance.now();
      await session.generate({ promptIds: [], maxTokens: tokens, temperature: 0 }, () => undefined);
      best[i] = Math.max(best[i]!, tokens / ((performance.now() - start) / 1000));
    }
  }
  for (const { engine } of models) engine.dispose();
  return { f32TokensPerSecond: round(best[0]!), f16TokensPerSecond: round(best[1]!) };
}

export function inferenceReport(bench: InferenceBench, limits: InferenceLimits, f16: InferenceBench, decode: DecodeComparison): InferenceReport {
  const limit = limits.readBandwidthBytesPerSecond / bench.weightBytes;
  return {
    ...bench,
    ...limits,
    decodeBandwidthLimitTokensPerSecond: round(limit),
    decodeShareOfBandwidthLimit: round(bench.decodeTokensPerSecond / limit, 3),
    decodeF16TokensPerSecond: decode.f16TokensPerSecond,
    decodeF16OverF32: round(decode.f16TokensPerSecond / decode.f32TokensPerSecond, 2),
    f16,
    prefillFullLogitsShareOfFmaPeak: round((limits.prefillFullLogitsTokensPerSecond * limits.prefillFlopsPerToken) / limits.fmaPeakFlopsPerSecond, 3),
  };
}
