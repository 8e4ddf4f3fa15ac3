// A run's chart data: the rows it reported ('jobs.metrics'), turned into one series per metric
// against its step. With .js extensions, as the tests type-check this module under Node's module
// resolution too.
import { pushMetricRow, type MetricRow } from '../../../electron/shared/metric-rows.js';

export type { MetricRow };

export interface Series {
  name: string;
  points: Array<{ x: number; y: number }>;
}

/** The row's step: its `step` value, or its position (1-based) when it has none. */
function stepOf(row: MetricRow, index: number): number {
  return row.step ?? index + 1;
}

/**
 * Adds a live row, replacing the rows of the steps it reports again: a row can arrive both in the
 * saved metrics and as an event while the saved ones load, and a run resumed from an older
 * checkpoint reports those steps anew. Returns a new array.
 */
export function appendRow(rows: MetricRow[], row: MetricRow): MetricRow[] {
  const next = [...rows];
  pushMetricRow(next, row);
  return next;
}

/** One series per metric name other than `step`, in the order they first appear. */
export function toSeries(rows: MetricRow[]): Series[] {
  const series = new Map<string, Series>();
  rows.forEach((row, index) => {
    for (const [name, value] of Object.entries(row)) {
      if (name === 'step' || !Number.isFinite(value)) continue;
      if (!series.has(name)) series.set(name, { name, points: [] });
      series.get(name)!.points.push({ x: stepOf(row, index), y: value });
    }
  });
  return [...series.values()];
}
