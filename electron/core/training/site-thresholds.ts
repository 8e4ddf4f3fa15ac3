// Stage 1 in scope "all" (fas-method.md section 9): every site's thresholds start from activation
// statistics of the source ANN on the training text (per channel, a high percentile of |x|), and are
// moved between the trainer and the folder format by their spiking.safetensors names.
import type { NativeModelSpec, NativeTrainer } from '../../../native/index.js';
import { TrainBatches, type TokenDataset } from '../data/index.js';
import { LAYER_SITES, type AllScopeWeights, type LayerSiteLambdas } from '../spiking/spiking-weights.js';
import type { TrainingEngine } from './train-loop.js';

/** The percentile of |x| per channel a threshold starts at, and about how many training tokens it is read from. */
export const THRESHOLD_PERCENTILE = 0.999;
export const THRESHOLD_TOKENS = 2048;

const SITES = [...LAYER_SITES, 'qcfs'] as const;

/** Thresholds of every site from the ANN's activations on the first training blocks (in the run's data order). */
export async function startingSiteThresholds(engine: TrainingEngine, spec: NativeModelSpec, dataset: TokenDataset, seed: number): Promise<AllScopeWeights> {
  const blocks = Math.min(dataset.train.blockStarts.length, Math.ceil(THRESHOLD_TOKENS / dataset.blockSize));
  const batch = new TrainBatches(dataset, blocks, { epoch: 0, index: 0, seed }).next();
  const ann = await engine.loadModel(spec);
  try {
    const { sites, headIn } = await ann.siteThresholds(batch.inputs, batch.size, dataset.blockSize, THRESHOLD_PERCENTILE);
    return { layers: sites, headIn };
  } finally {
    ann.dispose();
  }
}

export function setSiteThresholds(trainer: NativeTrainer, weights: AllScopeWeights): void {
  weights.layers.forEach((layer, i) => {
    for (const site of SITES) trainer.setTensor(`layers.${i}.${site}.lambda`, layer[site]);
  });
  trainer.setTensor('head_in.lambda', weights.headIn);
}

export function readSiteThresholds(trainer: NativeTrainer, layers: number): AllScopeWeights {
  return {
    layers: Array.from(
      { length: layers },
      (_, i) => Object.fromEntries(SITES.map((site) => [site, trainer.getTensor(`layers.${i}.${site}.lambda`)])) as LayerSiteLambdas,
    ),
    headIn: trainer.getTensor('head_in.lambda'),
  };
}
