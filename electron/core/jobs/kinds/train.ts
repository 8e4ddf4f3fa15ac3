// Job kind "train": plain training or fine-tuning of all parameters (pretraining the demo model).
import { loadNative } from '../../../../native/index.js';
import type { TrainingResult } from '../../../api/contract.js';
import { runTraining } from '../../training/train-loop.js';
import { trainSettings, type TrainSettings } from '../../training/settings.js';
import type { JobDefinition } from '../types.js';

export const trainJob: JobDefinition<TrainSettings, TrainingResult> = {
  kind: 'train',
  run: (settings, ctx) => runTraining(trainSettings.parse(settings), ctx, loadNative()),
};

export default trainJob;
