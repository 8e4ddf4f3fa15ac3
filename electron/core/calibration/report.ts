// What a calibration run reports: per layer, the align error (mean squared error between the
// time-averaged spiking output and the QCFS teacher's output at the FFN site) before calibration,
// after the coarse pass and after the fine pass; the joint pass's losses per epoch; and held-out
// perplexity of the QCFS teacher and the spiking model at T with the KL between their logits, at
// each stage.
import { z } from 'zod';
import type { CalibrationResult } from '../../api/contract.js';
import { CALIBRATION_STAGES, type CalibrationStageName } from '../../shared/calibration-stages.js';
import type { CalibrationRecipeRecord } from '../../api/contract.js';
import { PAPER_RECIPE } from '../../shared/calibration-recipes.js';
import type { CalibrationRunSettings } from './settings.js';

export const STAGES = CALIBRATION_STAGES;
export type Stage = CalibrationStageName;

const layerSchema = z.object({
  layer: z.number().int(),
  /** The layer's QCFS threshold from stage 1. */
  lambda: z.number(),
  /** Align error of the uncalibrated model (theta = lambda, v0 = theta / 2 everywhere). */
  before: z.number().nullable(),
  coarse: z
    .object({
      theta: z.number(),
      v0: z.number(),
      loss: z.number(),
      /** Loss of theta = lambda, v0 = theta / 2 for this layer, with the layers before it calibrated. */
      startLoss: z.number(),
      /** Loss of the GPT-2 reference code's theta = 0.6 lambda, v0 = 0.2 theta, likewise. */
      referenceLoss: z.number(),
      /** False when the values raised the logits' KL on the calibration text and were undone. */
      kept: z.boolean(),
    })
    .nullable(),
  /** Align error after each epoch of the fine pass; the last is the layer's result (when kept). */
  fine: z.object({ losses: z.array(z.number()), kept: z.boolean() }).nullable(),
});

const jointSchema = z.object({
  /** The KL on the calibration text with the values the joint pass started from. */
  startKl: z.number(),
  /** Per epoch: the mean KL and summed align losses seen while stepping, then the KL on the calibration text. */
  epochs: z.array(z.object({ kl: z.number(), align: z.number(), calibrationKl: z.number() })),
  /** The epoch whose values were kept (1-based): the lowest KL on the calibration text; 0 when none beat the start. */
  kept: z.number().int().min(0),
});

const evaluationSchema = z.object({
  qcfsPerplexity: z.number(),
  snnPerplexity: z.number(),
  /** Mean over the scored positions of KL(softmax(QCFS logits) || softmax(SNN logits)), in nats. */
  kl: z.number(),
  tokens: z.number().int(),
});

export const progressSchema = z.object({
  layers: z.array(layerSchema),
  /** Mean KL of the logits on the calibration text with the values kept so far (null until measured). */
  calibrationKl: z.number().nullable(),
  /** The joint pass, once done (absent when it does not run). */
  joint: jointSchema.optional(),
  /** Held-out measurements after each finished stage; absent without held-out data. */
  evaluations: z.object({
    before: evaluationSchema.optional(),
    coarse: evaluationSchema.optional(),
    fine: evaluationSchema.optional(),
    joint: evaluationSchema.optional(),
  }),
});

export type LayerCalibration = z.infer<typeof layerSchema>;
export type JointCalibration = z.infer<typeof jointSchema>;
export type Evaluation = z.infer<typeof evaluationSchema>;
export type CalibrationProgress = z.infer<typeof progressSchema>;

/** A finished calibration's report: the contract's type, whose per-layer part the checkpoint keeps (progressSchema). */
export type CalibrationReport = CalibrationResult;
/** The recipe a run followed, in the report and in the written folder's metadata. */
export type RecipeRecord = CalibrationRecipeRecord;

export const NO_CALIBRATION_NEEDED =
  'This model spikes at every layer with layer encoding (scope "all"): its spiking network equals the fine-tuned ' +
  'quantised model by construction (exactly at T = L), so no calibration is needed. The folder is written at the ' +
  'chosen T with its thresholds unchanged; a T below L lowers the energy and may cost some accuracy.';

export const CALIBRATION_SCOPE =
  "The coarse search and the per-layer fine pass minimise each layer's align loss, layer by layer; a layer's new " +
  'values are undone when they raise the KL between the QCFS and spiking logits on the calibration text. The joint ' +
  "pass then minimises the method's whole loss, that KL plus the weighted sum of the align losses, over every layer " +
  'at once, back-propagated through the T timesteps of the spiking network with the surrogate spike gradient; it ' +
  'keeps the epoch with the lowest KL on the calibration text. The weights are never changed.';

export const PAPER_CALIBRATION_SCOPE =
  'As in the FAS reference code: every layer started at theta = 0.6 lambda, v0 = 0.2 theta, then one threshold and ' +
  "initial potential per (position, neuron) up to the block length were fitted on the method's whole loss, the KL " +
  'between the QCFS and spiking logits summed over each sequence and averaged over sequences (batchmean) plus the ' +
  `align losses, by Adam at ${PAPER_RECIPE.jointLr} for ${PAPER_RECIPE.jointEpochs} epochs, back-propagated through the T ` +
  "timesteps with the surrogate spike gradient; the last epoch's values are kept. The weights are never changed.";

/** What a run's settings make it do (a per-layer run has no fine or joint pass). */
export function recipeRecord(s: CalibrationRunSettings): RecipeRecord {
  if (s.recipe === 'paper') {
    return {
      name: 'paper',
      start: 'theta = 0.6 lambda, v0 = 0.2 theta',
      fineEpochs: 0,
      positions: s.blockSize,
      jointEpochs: PAPER_RECIPE.jointEpochs,
      jointLr: PAPER_RECIPE.jointLr,
      klReduction: PAPER_RECIPE.klReduction,
      alignWeight: PAPER_RECIPE.alignWeight,
      keptEpoch: 'last',
    };
  }
  const perNeuron = s.level === 'neuron';
  return {
    name: 'app',
    start: 'searched',
    fineEpochs: perNeuron ? s.epochs : 0,
    positions: perNeuron && s.maxPositions !== undefined ? Math.min(s.maxPositions + 1, s.blockSize) : 0,
    jointEpochs: perNeuron ? s.jointEpochs : 0,
    jointLr: s.jointLr,
    klReduction: 'position',
    alignWeight: s.alignWeight,
    keptEpoch: 'lowest KL on the calibration text',
  };
}

/** The held-out measurement after the last stage that has one. */
export function lastEvaluation(p: Pick<CalibrationProgress, 'evaluations'>): Evaluation | undefined {
  return STAGES.map((s) => p.evaluations[s]).findLast((e) => e !== undefined);
}

/** The report as lines of text for the terminal. */
export function formatReport(r: CalibrationReport): string {
  const e = (x: number | null | undefined) => (x === null || x === undefined ? '      -' : x.toExponential(2).padStart(9));
  if (r.notNeeded) return `Wrote ${r.outDir} at T = ${r.timesteps}. ${r.scope}`;
  const granularity = r.recipe?.name === 'paper' ? 'per-(position, neuron)' : r.level === 'neuron' ? 'per-neuron' : 'per-layer';
  const recipe = r.recipe?.name === 'paper' ? ', as in the FAS reference code' : '';
  const lines = [
    `Wrote ${r.outDir}: ${granularity} calibration${recipe} at T = ${r.timesteps} on ${r.samples} sequences of ${r.blockSize} tokens.`,
    '',
    'Align error per layer (mean squared error against the QCFS teacher):',
    'layer   lambda     before     coarse       fine   coarse theta, v0',
  ];
  const undone = (kept: boolean | undefined) => (kept === false ? '*' : ' ');
  for (const l of r.layers) {
    const tv = l.coarse ? `${l.coarse.theta.toFixed(3)}, ${l.coarse.v0.toFixed(3)}` : '-';
    const coarse = `${e(l.coarse?.loss)}${undone(l.coarse?.kept)}`;
    const fine = `${e(l.fine?.losses.at(-1))}${undone(l.fine?.kept)}`;
    lines.push(`${String(l.layer).padStart(5)} ${l.lambda.toFixed(3).padStart(8)} ${e(l.before)}  ${coarse} ${fine}  ${tv}`);
  }
  if (r.layers.some((l) => l.coarse?.kept === false || l.fine?.kept === false)) {
    lines.push('  * undone: these values raised the KL of the logits on the calibration text, so the layer kept its previous ones.');
  }
  if (r.joint) {
    lines.push('', `Joint pass (KL of the logits + align losses, every layer at once), from KL ${r.joint.startKl.toExponential(3)} on the calibration text:`);
    lines.push('epoch   KL while stepping   align sum   KL on calibration text');
    r.joint.epochs.forEach((e, i) =>
      lines.push(
        `${String(i + 1).padStart(5)}   ${e.kl.toExponential(3).padStart(17)}   ${e.align.toExponential(2).padStart(9)}   ${e.calibrationKl.toExponential(3).padStart(22)}${i + 1 === r.joint!.kept ? '  kept' : ''}`,
      ),
    );
    if (r.joint.kept === 0) lines.push('  No epoch lowered the KL on the calibration text, so the values from before the joint pass were kept.');
  }
  const evals = STAGES.flatMap((s) => (r.evaluations[s] ? [[s, r.evaluations[s]] as const] : []));
  if (evals.length > 0) {
    lines.push('', `Held-out perplexity (${evals[0]![1].tokens} tokens):`);
    lines.push(`  QCFS teacher:                ${evals[0]![1].qcfsPerplexity.toFixed(3)}`);
    const label = { before: 'before calibration', coarse: 'after the coarse pass', fine: 'after the fine pass', joint: 'after the joint pass' };
    for (const [stage, v] of evals)
      lines.push(`  SNN at T=${r.timesteps}, ${label[stage].padEnd(22)} ${v.snnPerplexity.toFixed(3)}   KL ${v.kl.toExponential(3)}`);
  }
  lines.push('', r.scope);
  return lines.join('\n');
}
