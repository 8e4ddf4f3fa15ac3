import { describe, expect, it } from 'vitest';
import { inferenceReport } from '../../electron/core/bench/bench-inference.js';

describe('inferenceReport', () => {
  it('reads the decode against the limit the read bandwidth sets', () => {
    const bench = { prefillTokensPerSecond: 500, decodeTokensPerSecond: 30, peakRssBytes: 6e8, weightBytes: 5e8, peakRssOverWeights: 1.2 };
    const report = inferenceReport(bench, { prefillFullLogitsTokensPerSecond: 400, readBandwidthBytesPerSecond: 2e10 });
    expect(report.decodeBandwidthLimitTokensPerSecond).toBe(40); // 20 GB/s over 500 MB a step
    expect(report.decodeShareOfBandwidthLimit).toBe(0.75);
    expect(report.prefillFullLogitsTokensPerSecond).toBe(400);
    expect(report.prefillTokensPerSecond).toBe(500);
  });
});
