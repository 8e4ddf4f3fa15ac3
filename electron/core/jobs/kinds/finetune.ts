// Job kind "finetune": FAS stage 1, QCFS at the FFN site and every parameter fine-tuned, with the
// paper's defaults (L = 8, lambda starting at 2, thresholds learning much faster than weights).
import { loadNative } from '../../../../native/index.js';
import type { TrainingResult } from '../../../api/contract.js';
import { runTraining } from '../../training/train-loop.js';
import { finetuneSettings, type TrainSettings } from '../../training/settings.js';
import type { JobDefinition } from '../types.js';

export const finetuneJob: JobDefinition<TrainSettings, TrainingResult> = {
  kind: 'finetune',
  run: (settings, ctx) => runTraining(finetuneSettings.parse(settings), ctx, loadNative()),
};

export default finetuneJob;
