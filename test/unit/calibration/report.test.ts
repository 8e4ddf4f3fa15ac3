import { describe, expect, it } from 'vitest';
import { CALIBRATION_SCOPE, formatReport, type CalibrationReport } from '../../../electron/core/calibration/report.js';

const evaluation = (snn: number, kl: number) => ({ qcfsPerplexity: 10, snnPerplexity: snn, kl, tokens: 100 });

const report: CalibrationReport = {
  outDir: '/out',
  timesteps: 8,
  level: 'neuron',
  samples: 32,
  blockSize: 128,
  scope: CALIBRATION_SCOPE,
  calibrationKl: 0.05,
  layers: [
    {
      layer: 0,
      lambda: 2,
      before: 0.01,
      coarse: { theta: 1.8, v0: 0.9, loss: 0.008, startLoss: 0.01, referenceLoss: 0.05, kept: true },
      fine: { losses: [0.007, 0.006], kept: true },
    },
    {
      layer: 1,
      lambda: 1.5,
      before: 0.03,
      coarse: { theta: 1.5, v0: 0.75, loss: 0.02, startLoss: 0.025, referenceLoss: 0.06, kept: false },
      fine: { losses: [0.019], kept: true },
    },
  ],
  joint: {
    startKl: 0.06,
    epochs: [
      { kl: 0.055, align: 0.01, calibrationKl: 0.05 },
      { kl: 0.05, align: 0.012, calibrationKl: 0.052 },
    ],
    kept: 1,
  },
  evaluations: { before: evaluation(14, 0.2), coarse: evaluation(12, 0.1), fine: evaluation(11, 0.05), joint: evaluation(10.5, 0.04) },
};

describe('calibration report', () => {
  it('lists each layer before, after the coarse and after the fine pass, and marks undone values', () => {
    const text = formatReport(report);
    expect(text).toContain('per-neuron calibration at T = 8 on 32 sequences of 128 tokens');
    expect(text).toMatch(/\n {4}0 {4}2\.000 +1\.00e-2 +8\.00e-3 +6\.00e-3 +1\.800, 0\.900/);
    expect(text).toMatch(/\n {4}1 {4}1\.500 +3\.00e-2 +2\.00e-2\* +1\.90e-2/);
    expect(text).toContain('* undone');
  });

  it('gives the QCFS perplexity and the spiking one with the KL at every stage, and says what was optimised', () => {
    const text = formatReport(report);
    expect(text).toContain('QCFS teacher:                10.000');
    expect(text).toMatch(/SNN at T=8, before calibration +14\.000 +KL 2\.000e-1/);
    expect(text).toMatch(/SNN at T=8, after the fine pass +11\.000 +KL 5\.000e-2/);
    expect(text).toMatch(/SNN at T=8, after the joint pass +10\.500 +KL 4\.000e-2/);
    expect(text).toContain('back-propagated through the T timesteps');
  });

  it('lists the joint pass per epoch and marks the epoch it kept', () => {
    const text = formatReport(report);
    expect(text).toContain('from KL 6.000e-2 on the calibration text');
    expect(text).toMatch(/\n {4}1 +5\.500e-2 +1\.00e-2 +5\.000e-2 {2}kept\n {4}2 +5\.000e-2 +1\.20e-2 +5\.200e-2\n/);
    const none = formatReport({ ...report, joint: { ...report.joint!, kept: 0 } });
    expect(none).toContain('No epoch lowered the KL on the calibration text');
  });

  it('leaves out what was not measured', () => {
    const text = formatReport({ ...report, level: 'layer', layers: report.layers.map((l) => ({ ...l, fine: null })), joint: undefined, evaluations: {} });
    expect(text).toContain('per-layer calibration');
    expect(text).toMatch(/\n {4}0 {4}2\.000 +1\.00e-2 +8\.00e-3 +- +1\.800, 0\.900/);
    expect(text).not.toContain('Held-out perplexity');
    expect(text).not.toContain('Joint pass');
  });
});
