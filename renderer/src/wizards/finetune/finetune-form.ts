// The fine-tuning wizard's settings: their defaults and bounds (from the job kind's schema, via
// 'jobs.defaults' and 'jobs.limits'), what makes them unusable, and the job parameters they become.
import type { NumberLimits } from '../../../../electron/api/contract.js';
import { limitProblem } from '../limits.js';

export type Decay = 'linear' | 'cosine' | 'constant';
/** What spikes after conversion (fas-method section 9): the FFN site only, or every layer. */
export type Scope = 'ffn' | 'all';

export interface FinetuneSettings {
  scope: Scope;
  steps: number;
  batchSize: number;
  blockSize: number;
  lr: number;
  /** QCFS quantisation levels L. */
  levels: number;
  initialLambda: number;
  thresholdLr: number;
  warmupSteps: number;
  decay: Decay;
  weightDecay: number;
  clipNorm: number;
  valEvery: number;
  saveEvery: number;
  seed: number;
}

const DECAYS: readonly Decay[] = ['linear', 'cosine', 'constant'];
export const SCOPES: readonly Scope[] = ['ffn', 'all'];

/** The settings a 'finetune' job uses when given none ('jobs.defaults' result). */
export function settingsFromDefaults(d: Record<string, unknown>): FinetuneSettings {
  const qcfs = d.qcfs as { levels: number; initialLambda: number };
  const n = (key: string) => d[key] as number;
  return {
    scope: d.scope as Scope,
    steps: n('steps'),
    batchSize: n('batchSize'),
    blockSize: n('blockSize'),
    lr: n('lr'),
    levels: qcfs.levels,
    initialLambda: qcfs.initialLambda,
    thresholdLr: n('thresholdLr'),
    warmupSteps: n('warmupSteps'),
    decay: d.decay as Decay,
    weightDecay: n('weightDecay'),
    clipNorm: n('clipNorm'),
    valEvery: n('valEvery'),
    saveEvery: n('saveEvery'),
    seed: n('seed'),
  };
}

/** A saved preset over the current settings: only the settings it knows, with the right types. */
export function withPreset(current: FinetuneSettings, values: Record<string, unknown>): FinetuneSettings {
  const next = { ...current };
  for (const key of Object.keys(current) as Array<keyof FinetuneSettings>) {
    const value = values[key];
    if (key === 'decay') {
      if (DECAYS.includes(value as Decay)) next.decay = value as Decay;
    } else if (key === 'scope') {
      if (SCOPES.includes(value as Scope)) next.scope = value as Scope;
    } else if (typeof value === 'number' && Number.isFinite(value)) {
      next[key] = value;
    }
  }
  return next;
}

/** The numeric settings, in the order they are checked, by the names the checks use and their names in the job's schema. */
const NAMES: Array<[key: Exclude<keyof FinetuneSettings, 'scope' | 'decay'>, name: string, param: string]> = [
  ['steps', 'Steps', 'steps'],
  ['batchSize', 'The batch size', 'batchSize'],
  ['blockSize', 'The block size', 'blockSize'],
  ['lr', 'The learning rate', 'lr'],
  ['levels', 'L', 'qcfs.levels'],
  ['initialLambda', 'The initial lambda', 'qcfs.initialLambda'],
  ['thresholdLr', 'The threshold learning rate', 'thresholdLr'],
  ['warmupSteps', 'Warm-up', 'warmupSteps'],
  ['weightDecay', 'Weight decay', 'weightDecay'],
  ['clipNorm', 'Gradient clipping', 'clipNorm'],
  ['valEvery', 'Validate every', 'valEvery'],
  ['saveEvery', 'Save every', 'saveEvery'],
  ['seed', 'The seed', 'seed'],
];

export type FinetuneLimits = Partial<Record<keyof FinetuneSettings, NumberLimits>>;

/** Each setting's bounds by its name in the form, from the job kind's ('jobs.limits', where the QCFS ones are "qcfs.levels"…). */
export function formLimits(limits: Record<string, NumberLimits>): FinetuneLimits {
  return Object.fromEntries(NAMES.flatMap(([key, , param]) => (limits[param] ? [[key, limits[param]]] : [])));
}

/** Why the settings cannot be used, in words; null when they can. `limits`: the 'finetune' job's bounds ('jobs.limits'). */
export function settingsProblem(s: FinetuneSettings, contextLength: number, limits: Record<string, NumberLimits>): string | null {
  for (const [key, name, param] of NAMES) {
    const problem = limitProblem(name, s[key], limits[param]);
    if (problem) return problem;
  }
  if (s.blockSize > contextLength) return `The block size can be at most ${contextLength}, the model's context length.`;
  return null;
}

/** The 'finetune' job's parameters. */
export function finetuneParams(s: FinetuneSettings, paths: { modelDir: string; dataPath?: string; outDir: string }): Record<string, unknown> {
  const { levels, initialLambda, ...rest } = s;
  return { ...paths, ...rest, qcfs: { levels, initialLambda } };
}
