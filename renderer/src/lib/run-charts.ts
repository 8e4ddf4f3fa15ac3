// Which of a run's reported numbers are charted, under which names, per job kind: the curves a person
// follows, never the bookkeeping the jobs also report (step, layer, gradNorm, tokensPerSecond,
// etaSeconds). A kind not listed here (a test's job) charts every number by its name.
import type { JobKindName } from '../../../electron/api/contract';

export interface ChartChoice {
  metric: string;
  title: string;
}

const training: ChartChoice[] = [
  { metric: 'loss', title: 'Training loss' },
  { metric: 'valPerplexity', title: 'Validation perplexity' },
];
const calibration: ChartChoice[] = [
  { metric: 'alignLoss', title: 'Align error of the layer being calibrated' },
  { metric: 'kl', title: 'KL to the fine-tuned model (joint pass)' },
];

const byKind = {
  train: training,
  finetune: training,
  calibrate: calibration,
  convert: [...training, ...calibration],
  // An evaluation's numbers are its results (curves against T), not a progress chart.
  evaluate: [],
} satisfies Record<JobKindName, ChartChoice[]>;

/** The charts of a kind's runs; undefined: every number it reports, by its name. */
export function chartsFor(kind: string): ChartChoice[] | undefined {
  return Object.hasOwn(byKind, kind) ? byKind[kind as JobKindName] : undefined;
}
