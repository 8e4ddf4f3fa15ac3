// The words the UI uses for the core's codes.
import type { JobState, ModelStage, WeightDType } from '../../../electron/api/contract';

export const stageWords: Record<ModelStage, string> = {
  ann: 'Original',
  qcfs: 'Fine-tuned (stage 1)',
  calibrated: 'Spiking, calibrated',
};

export const jobStateWords: Record<JobState, string> = {
  queued: 'Waiting',
  running: 'Running',
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
};

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

/** Jobs that can still be cancelled. */
export function isActive(state: JobState): boolean {
  return state === 'queued' || state === 'running';
}
