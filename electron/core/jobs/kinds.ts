// The one registry of job kinds: each kind's settings schema (checked to fit the contract's settings
// type), title, result (the contract's, which the lineage reads), how it pauses and resumes, and which
// models it writes. Each is a module under jobs/kinds/ whose default export is a JobDefinition; the
// JobManager runs it in a child process, the CLI imports it directly.
import { basename, resolve } from 'node:path';
import type { JobKindName, JobKinds } from '../../api/contract.js';
import { calibrateSettings } from '../calibration/settings.js';
import { evalSettings } from '../eval/evaluate.js';
import { taskTitle } from '../eval/tasks.js';
import { convertSettings } from '../pipeline/convert.js';
import { finetuneSettings, trainSettings } from '../training/settings.js';
import type { JobKind } from './job-manager.js';
import { calibrationResume, trainingResume } from './resume.js';

/** A kind of the app, typed by its entry in the contract's JobKinds. */
export type AppJobKind<K extends JobKindName> = JobKind<JobKinds[K]['params'], JobKinds[K]['result']>;

const kind = <K extends JobKindName>(file: K, spec: Omit<AppJobKind<K>, 'module'>): AppJobKind<K> => ({ module: `./kinds/${file}.js`, ...spec });

/** A run's title names its model by its folder, as the library does, not by the whole path. */
const model = (p: { modelDir: string }) => basename(resolve(p.modelDir));
const everyLayer = (p: { scope: 'ffn' | 'all' }) => (p.scope === 'all' ? ', every layer' : '');
/** Training and calibration write one model, made from the one they read. */
const oneModel = (p: { modelDir: string }, r: { outDir: string }) => [{ from: p.modelDir, made: r.outDir }];

export const jobKinds: { [K in JobKindName]: AppJobKind<K> } = {
  train: kind('train', {
    params: trainSettings,
    title: (p) => `Train ${model(p)} (${p.steps} steps)`,
    resume: trainingResume,
    outputs: oneModel,
  }),
  finetune: kind('finetune', {
    params: finetuneSettings,
    title: (p) => `Fine-tune ${model(p)} with QCFS (${p.steps} steps${everyLayer(p)})`,
    resume: trainingResume,
    outputs: oneModel,
  }),
  calibrate: kind('calibrate', {
    params: calibrateSettings,
    title: (p) => `Calibrate the neurons of ${model(p)} (T = ${p.timesteps})`,
    resume: calibrationResume,
    outputs: oneModel,
  }),
  evaluate: kind('evaluate', {
    params: evalSettings,
    title: (p) => `Evaluate ${model(p)}: ${taskTitle(p.task)}`,
  }),
  convert: kind('convert', {
    params: convertSettings,
    title: (p) => `Convert ${model(p)} into a spiking model (T = ${p.timesteps}${everyLayer(p)})`,
    // Both stages, each the child of the one before: source -> stage 1 -> stage 2.
    outputs: (p, r) => [
      { from: p.modelDir, made: r.stage1.outDir },
      { from: r.stage1.outDir, made: r.calibration.outDir },
    ],
  }),
};
