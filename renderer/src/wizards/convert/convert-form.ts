// The conversion wizard's settings (stage 1, stage 2 and the evaluation in one 'convert' job): their
// defaults and bounds (from the job kind's schema, via 'jobs.defaults' and 'jobs.limits'), what makes them unusable, how many
// memory estimates they need, and the job parameters they become.
// With .js extensions, as the tests type-check this module under Node's module resolution too.
import type { CalibrationLevel } from '../calibrate/calibrate-form.js';
import type { NumberLimits } from '../../../../electron/api/contract.js';
import { SCOPES, type Scope } from '../finetune/finetune-form.js';
import { limitProblem } from '../limits.js';

export interface ConvertSettings {
  /** What spikes after conversion: the FFN site only, or every layer. */
  scope: Scope;
  /** Timesteps T the spiking model runs per token. */
  timesteps: number;
  /** Stage 1: training steps, text blocks per step, tokens per block. */
  steps: number;
  batchSize: number;
  blockSize: number;
  /** Stage 2 (FFN only): how finely the neurons are tuned, on how many sequences. */
  level: CalibrationLevel;
  samples: number;
  seed: number;
  /** The T the evaluation measures besides the chosen one. */
  evalTimesteps: number[];
}

const LEVELS: readonly CalibrationLevel[] = ['layer', 'neuron'];

/** The settings a 'convert' job uses when given none ('jobs.defaults' result). */
export function settingsFromDefaults(d: Record<string, unknown>): ConvertSettings {
  const n = (key: string) => d[key] as number;
  return {
    scope: d.scope as Scope,
    timesteps: n('timesteps'),
    steps: n('steps'),
    batchSize: n('batchSize'),
    blockSize: n('blockSize'),
    level: d.level as CalibrationLevel,
    samples: n('samples'),
    seed: n('seed'),
    evalTimesteps: d.evalTimesteps as number[],
  };
}

/** A saved preset (or a failed run's parameters) over the current settings: only the settings it knows, with the right types. */
export function withPreset(current: ConvertSettings, values: Record<string, unknown>): ConvertSettings {
  const next = { ...current };
  if (SCOPES.includes(values.scope as Scope)) next.scope = values.scope as Scope;
  if (LEVELS.includes(values.level as CalibrationLevel)) next.level = values.level as CalibrationLevel;
  const ts = values.evalTimesteps;
  if (Array.isArray(ts) && ts.length > 0 && ts.every((t) => Number.isInteger(t) && t >= 1)) next.evalTimesteps = ts as number[];
  for (const key of ['timesteps', 'steps', 'batchSize', 'blockSize', 'samples', 'seed'] as const) {
    const value = values[key];
    if (typeof value === 'number' && Number.isFinite(value)) next[key] = value;
  }
  return next;
}

/** The numeric settings, in the order they are checked, by the names the checks use. */
const NAMES: Array<[key: 'timesteps' | 'steps' | 'batchSize' | 'blockSize' | 'samples' | 'seed', name: string]> = [
  ['timesteps', 'T'],
  ['steps', 'Steps'],
  ['batchSize', 'The batch size'],
  ['blockSize', 'The block size'],
  ['samples', 'Calibration samples'],
  ['seed', 'The seed'],
];

/**
 * Why the settings cannot be used on a model with this context length, in words; null when they can.
 * `limits`: the bounds of the 'convert' job's settings ('jobs.limits').
 */
export function settingsProblem(s: ConvertSettings, contextLength: number, limits: Record<string, NumberLimits>): string | null {
  for (const [key, name] of NAMES) {
    const problem = limitProblem(name, s[key], limits[key]);
    if (problem) return problem;
  }
  if (s.blockSize > contextLength) return `The block size can be at most ${contextLength}, the model's context length.`;
  return null;
}

/** Stage 1 always needs its estimate; stage 2 only calibrates (and needs memory of its own) at the FFN site. */
export function estimatesNeeded(s: ConvertSettings): number {
  return s.scope === 'ffn' ? 2 : 1;
}

/** The 'convert' job's parameters; the evaluation always measures the chosen T. */
export function convertParams(s: ConvertSettings, paths: { modelDir: string; dataPath?: string; outDir: string }): Record<string, unknown> {
  const evalTimesteps = [...new Set([...s.evalTimesteps, s.timesteps])].sort((a, b) => a - b);
  return { ...paths, ...s, evalTimesteps };
}
