// The words the UI uses for the core's codes.
import type { JobKindName, JobState, ModelEntry, ModelStage, WeightDType } from '../../../electron/api/contract.js';

export const stageWords: Record<ModelStage, string> = {
  ann: 'Original',
  qcfs: 'Fine-tuned (stage 1)',
  calibrated: 'Spiking, calibrated',
};

type Staged = Pick<ModelEntry, 'stage' | 'spiking'>;

/**
 * Where a model stands, as its badge shows it: a model spiking at every layer spikes from stage 1 on
 * (layer encoding equals the quantised model, so no calibration is to come), so it shows as spiking.
 */
export function shownStage(model: Staged): ModelStage {
  return model.spiking?.scope === 'all' ? 'calibrated' : model.stage;
}

/** A model's stage in words: "Original", "Fine-tuned (stage 1)", "Spiking, calibrated" or "Spiking, every layer". */
export function modelStageWords(model: Staged): string {
  return model.spiking?.scope === 'all' ? 'Spiking, every layer' : stageWords[model.stage];
}

export const jobStateWords: Record<JobState, string> = {
  queued: 'Waiting',
  running: 'Running',
  paused: 'Paused',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
  interrupted: 'Interrupted',
};

/** A job kind in words; a kind not listed (a test's) shows as it is. */
export const jobKindWords: Record<string, string> = {
  train: 'Training',
  finetune: 'Fine-tuning (stage 1)',
  calibrate: 'Calibration (stage 2)',
  evaluate: 'Evaluation',
  convert: 'Conversion (both stages and the evaluation)',
} satisfies Record<JobKindName, string>;

/** Where a run of a kind that can pause stops when paused, e.g. "Pause saves a checkpoint after the current step". */
export const pausePointWords: Record<string, string> = {
  train: 'after the current step',
  finetune: 'after the current step',
  calibrate: 'after the layer in progress',
} satisfies Partial<Record<JobKindName, string>>;

export const dtypeWords: Record<WeightDType, string> = {
  F32: '32-bit float (F32)',
  F16: '16-bit float (F16)',
  BF16: 'bfloat16 (BF16)',
};

export const calibrationWords = {
  none: 'not calibrated',
  layer: 'calibrated per layer',
  neuron: 'calibrated per neuron',
} as const;

/** A converted model's recipe (fas-method section 9), in the words the wizards offer it. */
export const scopeWords = {
  ffn: 'FFN only: the FAS paper’s recipe',
  all: 'Every layer: fully spike-driven, lowest energy',
} as const;

/** How a converted model's neurons were set: a model spiking at every layer needs no calibration. */
export function spikingCalibrationWords(spiking: { scope: 'ffn' | 'all'; calibration: keyof typeof calibrationWords }): string {
  return spiking.scope === 'all' ? 'no calibration needed' : calibrationWords[spiking.calibration];
}

/** Jobs that can still be cancelled. */
export function isActive(state: JobState): boolean {
  return state === 'queued' || state === 'running';
}
