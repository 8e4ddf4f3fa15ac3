// The evaluation wizard's settings: their defaults (from the 'evaluate' job kind's schema, via
// 'jobs.defaults'), the list of timesteps as people type it, what makes them unusable, and the job
// parameters they become; and the words for an evaluation's rows.
// With .js extensions, as the tests type-check this module under Node's module resolution too.
import type { EvaluationResult, EvaluationRow } from '../../../../electron/api/contract.js';
import { formatMetric } from '../../lib/format.js';

export interface EvaluateSettings {
  /** The timesteps T to run the spiking model at, as typed: "1, 2, 4, 8". */
  timesteps: string;
  /** Tokens of a perplexity text, or items of a multiple-choice task; null = the task's default. */
  limit: number | null;
  blockSize: number;
  batchSize: number;
}

export const MAX_T = 1024;

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

/** "1, 2 4;8" -> [1, 2, 4, 8] (sorted, without repeats), or what is wrong with it in words. */
export function parseTimesteps(text: string): { values: number[]; problem: string | null } {
  const parts = text.split(/[\s,;]+/).filter((p) => p !== '');
  if (parts.length === 0) return { values: [], problem: 'Give at least one number of timesteps T, e.g. 1, 2, 4, 8.' };
  const values: number[] = [];
  for (const part of parts) {
    const n = Number(part);
    if (!Number.isInteger(n) || n < 1 || n > MAX_T)
      return { values: [], problem: `"${part}" is not a number of timesteps: each T must be a whole number from 1 to ${MAX_T}.` };
    values.push(n);
  }
  return { values: [...new Set(values)].sort((a, b) => a - b), problem: null };
}

const whole = (min: number) => (v: number) => Number.isInteger(v) && v >= min;

/**
 * Why the settings cannot be used, in words; null when they can. `spiking`: the model has a spiking
 * mode (T matters). A block longer than the model's context is cut to it by the job, not refused.
 */
export function settingsProblem(s: EvaluateSettings, spiking: boolean): string | null {
  if (spiking) {
    const { problem } = parseTimesteps(s.timesteps);
    if (problem) return problem;
  }
  if (s.limit !== null && !whole(1)(s.limit)) return 'The limit must be a whole number of at least 1 (or leave it empty for the task’s default).';
  if (!whole(2)(s.blockSize)) return 'The block size must be a whole number of at least 2.';
  if (!whole(1)(s.batchSize) || s.batchSize > 4096) return 'The batch size must be a whole number from 1 to 4096.';
  return null;
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

/** A row's model in words. */
export function rowWords(row: Pick<EvaluationRow, 'mode' | 'timesteps'>): string {
  if (row.mode === 'snn') return `Spiking, T = ${row.timesteps}`;
  return row.mode === 'qcfs' ? 'Fine-tuned (stage 1), not spiking' : 'Original (ANN)';
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
