// Training speed and memory on the benchmark model: forward + backward + AdamW at batch 4 x 256.
import { loadNative } from '../../../native/index.js';
import { openModelFolder } from '../model/folder.js';
import { bestSeconds } from './best-seconds.js';
import { round } from './round.js';

export interface TrainingBench {
  tokensPerSecond: number;
  secondsPerStep: number;
  peakRssBytes: number;
}

export interface TrainingReport extends TrainingBench {
  /**
   * Its operations per second over the multiply-add peak, counting a step as three forward passes
   * with every position's logits (the backward does two products for each of the forward's).
   */
  shareOfFmaPeak: number;
}

/** The training bench against the machine's multiply-add peak, from the inference section's count of a forward's operations at the same batch. */
export function trainingReport(bench: TrainingBench, forwardFlopsPerToken: number, fmaPeakFlopsPerSecond: number): TrainingReport {
  return { ...bench, shareOfFmaPeak: round((bench.tokensPerSecond * 3 * forwardFlopsPerToken) / fmaPeakFlopsPerSecond, 3) };
}

export async function benchTraining(dir: string, steps = 2): Promise<TrainingBench> {
  const folder = await openModelFolder(dir);
  const trainer = await loadNative().createTrainer(folder.spec);
  const batch = 4;
  const seq = 256;
  const ids = Int32Array.from({ length: batch * seq }, (_, i) => (i * 7919) % folder.spec.vocabSize);
  const targets = Int32Array.from({ length: batch * seq }, (_, i) => (i * 7919 + 1) % folder.spec.vocabSize);
  const hyper = { lr: { decay: 1e-4, noDecay: 1e-4, threshold: 1e-3 }, weightDecay: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, clipNorm: 1 };
  const step = async () => {
    await trainer.forwardBackward(ids, targets, batch, seq);
    await trainer.optimizerStep(hyper);
  };
  await step(); // warm-up: first touch of the optimizer state
  const seconds = await bestSeconds(steps, step); // the best step, as the PyTorch anchor measures it
  trainer.dispose();
  return {
    tokensPerSecond: Math.round((batch * seq) / seconds),
    secondsPerStep: round(seconds, 2),
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}
