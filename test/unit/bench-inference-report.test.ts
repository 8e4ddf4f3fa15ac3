import { describe, expect, it } from 'vitest';
import { inferenceReport } from '../../electron/core/bench/bench-inference.js';
import { trainingReport } from '../../electron/core/bench/bench-training.js';

describe('inferenceReport', () => {
  const bench = {
    prefillTokensPerSecond: 500,
    decodeTokensPerSecond: 30,
    peakRssBytes: 6e8,
    weightBytes: 5e8,
    peakRssOverWeights: 1.2,
    peakRssAboveStartOverWeights: 1.1,
  };
  const f16 = { ...bench, decodeTokensPerSecond: 54, weightBytes: 2.5e8, peakRssBytes: 3.5e8, peakRssOverWeights: 1.4, peakRssAboveStartOverWeights: 1.15 };
  const decode = { f32TokensPerSecond: 31, f16TokensPerSecond: 55.8 }; // measured side by side
  const limits = {
    prefillFullLogitsTokensPerSecond: 400,
    scoreTokensPerSecond: 390,
    readBandwidthBytesPerSecond: 2e10,
    prefillFlopsPerToken: 5e8,
    fmaPeakFlopsPerSecond: 4e11,
  };
  const report = inferenceReport(bench, limits, f16, decode);

  it('reads the decode against the limit the read bandwidth sets', () => {
    expect(report.decodeBandwidthLimitTokensPerSecond).toBe(40); // 20 GB/s over 500 MB a step
    expect(report.decodeShareOfBandwidthLimit).toBe(0.75);
    expect(report.prefillFullLogitsTokensPerSecond).toBe(400);
    expect(report.prefillTokensPerSecond).toBe(500);
  });

  it('reads the prefill and training against the multiply-add peak', () => {
    expect(report.prefillFullLogitsShareOfFmaPeak).toBe(0.5); // 400 tokens/s x 0.5 GFLOP over 400 GFLOP/s
    const training = trainingReport(
      { tokensPerSecond: 160, secondsPerStep: 6.4, peakRssBytes: 3e9 },
      limits.prefillFlopsPerToken,
      limits.fmaPeakFlopsPerSecond,
    );
    expect(training.shareOfFmaPeak).toBe(0.6); // three forward passes' worth a token: 160 x 1.5 GFLOP over 400
    expect(training.tokensPerSecond).toBe(160);
  });

  it('puts the F16 decode beside the F32 one', () => {
    expect(report.decodeF16TokensPerSecond).toBe(55.8);
    expect(report.decodeF16OverF32).toBe(1.8); // over the F32 decode measured beside it, not the F32 section's
    expect(report.f16.decodeTokensPerSecond).toBe(54);
    expect(report.f16).toEqual(f16);
    expect(report.decodeTokensPerSecond).toBe(30); // the F32 numbers stay the report's own
  });
});
