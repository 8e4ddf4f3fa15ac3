// The job kinds the app can run: each is a module under jobs/kinds/ whose default export is a
// JobDefinition. The JobManager runs them in a child process; the CLI imports them directly.
import { calibrateSettings, type CalibrateSettings } from '../calibration/settings.js';
import { evalSettings, type EvalSettings } from '../eval/evaluate.js';
import { convertSettings, type ConvertSettings } from '../pipeline/convert.js';
import { finetuneSettings, trainSettings } from '../training/settings.js';
import type { JobKind, Resumable } from './job-manager.js';
import { calibrationResume, trainingResume } from './resume.js';
import { taskTitle } from '../eval/tasks.js';
import { basename, resolve } from 'node:path';

const kind = (file: string, params: JobKind['params'], title: JobKind['title'], resume?: Resumable): JobKind => ({
  module: `./kinds/${file}.js`,
  params,
  title,
  ...(resume && { resume }),
});

type Titled = { modelDir: string; steps: number; scope?: 'ffn' | 'all' };
const everyLayer = (p: unknown) => ((p as Titled).scope === 'all' ? ', every layer' : '');

/** A run's title names its model by its folder, as the library does, not by the whole path. */
const model = (p: unknown) => basename(resolve((p as { modelDir: string }).modelDir));

export const jobKinds: Record<string, JobKind> = {
  train: kind('train', trainSettings, (p) => `Train ${model(p)} (${(p as Titled).steps} steps)`, trainingResume),
  finetune: kind('finetune', finetuneSettings, (p) => `Fine-tune ${model(p)} with QCFS (${(p as Titled).steps} steps${everyLayer(p)})`, trainingResume),
  calibrate: kind('calibrate', calibrateSettings, (p) => `Calibrate the neurons of ${model(p)} (T = ${(p as CalibrateSettings).timesteps})`, calibrationResume),
  evaluate: kind('evaluate', evalSettings, (p) => `Evaluate ${model(p)}: ${taskTitle((p as EvalSettings).task)}`),
  convert: kind('convert', convertSettings, (p) => `Convert ${model(p)} into a spiking model (T = ${(p as ConvertSettings).timesteps}${everyLayer(p)})`),
};
