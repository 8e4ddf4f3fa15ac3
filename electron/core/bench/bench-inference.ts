// Inference speed and memory on the benchmark model: prefill of 4 x 256 tokens, greedy decode, and
// peak resident memory against the weight bytes.
import { loadNative } from '../../../native/index.js';
import { openModelFolder } from '../model/folder.js';

export interface InferenceBench {
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
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

  const session = engine.createSession();
  await session.eval(ids(16));
  const decodeTokens = 32;
  const decodeStart = performance.now();
  await session.generate({ promptIds: [], maxTokens: decodeTokens, temperature: 0 }, () => undefined);
  const decodeSeconds = (performance.now() - decodeStart) / 1000;
  engine.dispose();

  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  const weightBytes = folder.summary.weightBytes;
  return {
    prefillTokensPerSecond: round((4 * 256) / prefillSeconds),
    decodeTokensPerSecond: round(decodeTokens / decodeSeconds),
    peakRssBytes,
    weightBytes,
    peakRssOverWeights: round(peakRssBytes / weightBytes, 3),
  };
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
