// The text a calibration run works on: `samples` sequences drawn (seeded) from the training side of
// the data, which the neurons are fitted to, and held-out sequences for perplexity and KL.
import { loadJobDataset, TrainBatches, validationBatches, type Batch } from '../data/index.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import type { CalibrationRunSettings } from './settings.js';

export interface CalibrationData {
  /** [samples, blockSize] token ids, and the token after each (for the logits' comparison). */
  ids: Int32Array;
  targets: Int32Array;
  samples: number;
  /** Held-out batches (inputs and their next tokens); empty when the data has no held-out part. */
  heldOut: Batch[];
  notes: string[];
}

export async function loadCalibrationData(settings: CalibrationRunSettings & { dataPath: string }, tokenizer: TextTokenizer): Promise<CalibrationData> {
  const dataset = await loadJobDataset(settings, tokenizer.forData());
  const notes = [...dataset.notes];
  const blocks = dataset.train.blockStarts.length;
  const samples = Math.min(settings.samples, blocks);
  if (samples < settings.samples)
    notes.push(`The data holds ${blocks} training sequences of ${settings.blockSize} tokens; calibrating on those instead of ${settings.samples}.`);
  const { inputs: ids, targets } = new TrainBatches(dataset, samples, { epoch: 0, index: 0, seed: settings.seed }).next();
  const heldOut = [...validationBatches(dataset, settings.batchSize, settings.evalBlocks)];
  if (heldOut.length === 0) notes.push('The data has no held-out part, so perplexity and KL are not measured; raise the validation fraction or add text.');
  return { ids, targets, samples, heldOut, notes };
}
