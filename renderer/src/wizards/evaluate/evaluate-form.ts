// The evaluation wizard's settings: their defaults and bounds (from the 'evaluate' job kind's schema,
// via 'jobs.defaults' and 'jobs.limits'), the list of timesteps as people type it, what makes them unusable, and the job
// parameters they become.
// With .js extensions, as the tests type-check this module under Node's module resolution too.
import type { EvaluationResult, EvaluationRow, NumberLimits } from '../../../../electron/api/contract.js';
import { formatMetric } from '../../lib/format.js';
import { limitProblem, limitWords, withinLimits } from '../limits.js';

export interface EvaluateSettings {
  /** The timesteps T to run the spiking model at, as typed: "1, 2, 4, 8". */
  timesteps: string;
  /** Tokens of a perplexity text, or items of a multiple-choice task; null = the task's default. */
  limit: number | null;
  blockSize: number;
  batchSize: number;
}

/** The settings an 'evaluate' job uses when given none ('jobs.defaults' result). */
export function settingsFromDefaults(d: Record<string, unknown>): EvaluateSettings {
  const ts = Array.isArray(d.timesteps) ? (d.timesteps as number[]) : [1, 2, 4, 8, 16, 32];
  return {
    timesteps: ts.join(', '),
    limit: typeof d.limit === 'number' ? d.limit : null,
    blockSize: d.blockSize as number,
    batchSize: d.batchSize as number,
  };
}

/** A saved preset over the current settings: only the settings it knows, with the right types. */
export function withPreset(current: EvaluateSettings, values: Record<string, unknown>): EvaluateSettings {
  const next = { ...current };
  if (typeof values.timesteps === 'string') next.timesteps = values.timesteps;
  if (values.limit === null || (typeof values.limit === 'number' && Number.isFinite(values.limit))) next.limit = values.limit;
  for (const key of ['blockSize', 'batchSize'] as const) {
    const value = values[key];
    if (typeof value === 'number' && Number.isFinite(value)) next[key] = value;
  }
  return next;
}

/**
 * "1, 2 4;8" -> [1, 2, 4, 8] (sorted, without repeats), or what is wrong with it in words. `limit`: the
 * job's bounds of each T ('jobs.limits'); without it (a list already checked), any whole number above 0.
 */
export function parseTimesteps(text: string, limit?: NumberLimits): { values: number[]; problem: string | null } {
  const parts = text.split(/[\s,;]+/).filter((p) => p !== '');
  if (parts.length === 0) return { values: [], problem: 'Give at least one number of timesteps T, e.g. 1, 2, 4, 8.' };
  const values: number[] = [];
  for (const part of parts) {
    const n = Number(part);
    const bounds = limit ?? { min: 1, above: false, max: null, whole: true };
    if (!withinLimits(n, bounds)) return { values: [], problem: `"${part}" is not a number of timesteps: each T must be ${limitWords(bounds)}.` };
    values.push(n);
  }
  return { values: [...new Set(values)].sort((a, b) => a - b), problem: null };
}

/**
 * Why the settings cannot be used, in words; null when they can. `spiking`: the model has a spiking
 * mode (T matters). `limits`: the 'evaluate' job's bounds ('jobs.limits'). A block longer than the
 * model's context is cut to it by the job, not refused.
 */
export function settingsProblem(s: EvaluateSettings, spiking: boolean, limits: Record<string, NumberLimits>): string | null {
  if (spiking) {
    const { problem } = parseTimesteps(s.timesteps, limits.timesteps);
    if (problem) return problem;
  }
  const limit = s.limit === null ? null : limitProblem('The limit', s.limit, limits.limit);
  if (limit) return `${limit} Leave it empty for the task’s default.`;
  return limitProblem('The block size', s.blockSize, limits.blockSize) ?? limitProblem('The batch size', s.batchSize, limits.batchSize);
}

/** The 'evaluate' job's parameters. */
export function evaluateParams(s: EvaluateSettings, modelDir: string, task: string, spiking: boolean): Record<string, unknown> {
  return {
    modelDir,
    task,
    ...(spiking ? { timesteps: parseTimesteps(s.timesteps).values } : {}),
    ...(s.limit !== null ? { limit: s.limit } : {}),
    blockSize: s.blockSize,
    batchSize: s.batchSize,
  };
}

/** The task's headline metric: perplexity (lower is better) or accuracy (higher is better). */
export function headline(result: Pick<EvaluationResult, 'task'>): {
  name: string;
  better: string;
  of: (row: EvaluationRow) => number | undefined;
  format: (v: number) => string;
} {
  if (result.task.kind === 'perplexity') return { name: 'Perplexity', better: 'lower is better', of: (r) => r.perplexity, format: formatMetric };
  return { name: 'Accuracy', better: 'higher is better', of: (r) => r.acc, format: percent };
}

export function percent(v: number): string {
  return `${(100 * v).toFixed(1)}%`;
}

/** Joules -> "12.3 µJ" / "456 nJ". */
export function formatJoules(j: number): string {
  if (j === 0) return '0';
  const units: Array<[number, string]> = [
    [1, 'J'],
    [1e-3, 'mJ'],
    [1e-6, 'µJ'],
    [1e-9, 'nJ'],
    [1e-12, 'pJ'],
  ];
  for (const [scale, unit] of units) if (Math.abs(j) >= scale) return `${formatMetric(j / scale)} ${unit}`;
  return `${formatMetric(j / 1e-12)} pJ`;
}
