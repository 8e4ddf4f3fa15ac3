// A run's chart rows: a step reported again (a resume from a checkpoint older than the last report)
// replaces the first report, so the chart's steps only go forward; rows without a step are kept as they come.
import { describe, expect, it } from 'vitest';
import { pushMetricRow, type MetricRow } from '../../../electron/shared/metric-rows.js';
import { appendRow } from '../../../renderer/src/lib/run-metrics.js';

const rowsOf = (list: MetricRow[]) => list.reduce<MetricRow[]>((rows, row) => (pushMetricRow(rows, row), rows), []);

describe('metric rows', () => {
  it('keeps the later report of steps a resumed run reported again', () => {
    const crashedAt4ResumedAt2 = [1, 2, 3, 4, 3, 4, 5].map((step, i) => ({ step, loss: i }));
    expect(rowsOf(crashedAt4ResumedAt2)).toEqual([
      { step: 1, loss: 0 },
      { step: 2, loss: 1 },
      { step: 3, loss: 4 },
      { step: 4, loss: 5 },
      { step: 5, loss: 6 },
    ]);
  });

  it('keeps rows without a step in order, and takes a live row that the saved rows already hold once', () => {
    expect(rowsOf([{ layer: 0 }, { layer: 0, alignLoss: 1 }, { layer: 0 }])).toHaveLength(3);
    const saved: MetricRow[] = [
      { step: 0, valPerplexity: 9 },
      { step: 1, loss: 2 },
    ];
    const live = appendRow(saved, { step: 1, loss: 2 });
    expect(live).toEqual(saved);
    expect(live).not.toBe(saved);
    expect(appendRow(live, { step: 2, loss: 1.5 }).map((r) => r.step)).toEqual([0, 1, 2]);
  });
});
