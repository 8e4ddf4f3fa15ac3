// A run's chart points, one row of numbers per report. A run resumed from a checkpoint older than its
// last report (after a crash) reports those steps again: the later report of a step replaces the
// earlier ones, so a chart's steps only ever go forward. Used by the core's reader and the live charts.
export type MetricRow = Record<string, number>;

/** Adds `row` to `rows` (in place), after dropping the trailing rows whose step it reports again. */
export function pushMetricRow(rows: MetricRow[], row: MetricRow): void {
  if (row.step !== undefined) while (rows.length > 0 && rows.at(-1)!.step !== undefined && rows.at(-1)!.step! >= row.step) rows.pop();
  rows.push(row);
}
