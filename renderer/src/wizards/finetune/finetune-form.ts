// The fine-tuning wizard's settings: their defaults (from the job kind's schema, via
// 'jobs.defaults'), what makes them unusable, and the job parameters they become.

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

type Rule = [key: Exclude<keyof FinetuneSettings, 'scope'>, name: string, ok: (v: number) => boolean, need: string];

const whole = (min: number) => (v: number) => Number.isInteger(v) && v >= min;

const RULES: Rule[] = [
  ['steps', 'Steps', whole(1), 'a whole number of at least 1'],
  ['batchSize', 'The batch size', (v) => whole(1)(v) && v <= 4096, 'a whole number from 1 to 4096'],
  ['blockSize', 'The block size', whole(2), 'a whole number of at least 2'],
  ['lr', 'The learning rate', (v) => v > 0 && v <= 1, 'a number above 0, at most 1'],
  ['levels', 'L', (v) => whole(1)(v) && v <= 64, 'a whole number from 1 to 64'],
  ['initialLambda', 'The initial lambda', (v) => v >= 0.001, 'a number of at least 0.001'],
  ['thresholdLr', 'The threshold learning rate', (v) => v > 0 && v <= 10, 'a number above 0, at most 10'],
  ['warmupSteps', 'Warm-up', whole(0), 'a whole number of steps, 0 or more'],
  ['weightDecay', 'Weight decay', (v) => v >= 0 && v <= 1, 'a number from 0 to 1'],
  ['clipNorm', 'Gradient clipping', (v) => v >= 0, 'a number of at least 0 (0 turns it off)'],
  ['valEvery', 'Validate every', whole(1), 'a whole number of at least 1'],
  ['saveEvery', 'Save every', whole(1), 'a whole number of at least 1'],
  ['seed', 'The seed', whole(0), 'a whole number, 0 or more'],
];

/** Why the settings cannot be used, in words; null when they can. */
export function settingsProblem(s: FinetuneSettings, contextLength: number): string | null {
  for (const [key, name, ok, need] of RULES) {
    const value = s[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) return `${name} must be ${need}.`;
  }
  if (s.blockSize > contextLength) return `The block size can be at most ${contextLength}, the model's context length.`;
  return null;
}

/** The 'finetune' job's parameters. */
export function finetuneParams(s: FinetuneSettings, paths: { modelDir: string; dataPath: string; outDir: string }): Record<string, unknown> {
  const { levels, initialLambda, ...rest } = s;
  return { ...paths, ...rest, qcfs: { levels, initialLambda } };
}
