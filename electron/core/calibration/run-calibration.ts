// FAS stage 2 as a job (fas-method.md section 4): the weights of a stage-1 folder stay frozen while
// the IF neurons' thresholds and initial potentials are fitted, layer by layer, so that the spiking
// model at T matches its QCFS teacher. Stages, each over every layer in order:
//   before: the align error of the uncalibrated model;
//   coarse: one (theta, v0) per layer, searched;
//   fine:   (level 'neuron') per-neuron or per-(position, neuron) values by Adam on the surrogate
//           gradient of the layer's align loss;
//   joint:  (level 'neuron') every layer at once on the method's whole loss, the logits' KL plus the
//           align losses, back-propagated through the spiking network.
// The FAS reference code's recipe (recipe 'paper', shared/calibration-recipes) instead starts every
// layer at its fixed values (the coarse stage without a search), skips the fine pass and runs the
// joint pass per (position, neuron) up to the block length with the batchmean KL, keeping its last epoch.
// Held-out perplexity and KL are measured after each stage. A checkpoint after every layer (and
// after the joint pass) lets a cancelled or crashed run resume where it stopped; the finished
// folder replaces the output folder.
import { join } from 'node:path';
import type { NativeAddon, NativeCalibrator, TeacherStudentComparison } from '../../../native/index.js';
import type { Batch } from '../data/index.js';
import type { JobContext } from '../jobs/types.js';
import { StageEta } from '../jobs/eta.js';
import { JobCancelledError } from '../jobs/types.js';
import { openModelFolder, type OpenedModelFolder } from '../model/folder.js';
import { loadTokenizer } from '../model/tokenizer.js';
import { readSpikingConfig, type SpikingConfig } from '../spiking/spiking-config.js';
import { readAllScopeWeights, readSpikingWeights, type NeuronParams } from '../spiking/spiking-weights.js';
import { claimOutputFolder } from '../storage/owned-folder.js';
import { writeDerivedModel } from '../training/model-writer.js';
import { loadCalibrationData, type CalibrationData } from './calibration-data.js';
import {
  CALIBRATION_CHECKPOINT_DIR,
  CALIBRATION_STATE_FILE,
  loadCalibrationCheckpoint,
  saveCalibrationCheckpoint,
  type CalibrationState,
} from './checkpoint.js';
import { CalibrationError } from './errors.js';
import { readCanonicalTensors } from './frozen-weights.js';
import {
  CALIBRATION_SCOPE,
  NO_CALIBRATION_NEEDED,
  PAPER_CALIBRATION_SCOPE,
  recipeRecord,
  type RecipeRecord,
  STAGES,
  type CalibrationProgress,
  type CalibrationReport,
  type Evaluation,
  type JointCalibration,
  type Stage,
} from './report.js';
import { blockSizeFor } from '../../shared/model-defaults.js';
import { RESUME_INVARIANTS, type CalibrateSettings, type CalibrationRunSettings } from './settings.js';

/** The engine entry point the job needs (the native addon; tests may wrap it). */
export type CalibrationEngine = Pick<NativeAddon, 'createCalibrator'>;

export async function runCalibration(requested: CalibrateSettings, ctx: JobContext, engine: CalibrationEngine): Promise<CalibrationReport> {
  const release = await claimOutputFolder(requested.outDir, {
    inputs: requested.dataPath ? [requested.modelDir, requested.dataPath] : [requested.modelDir],
    overwrite: requested.overwrite,
    resume: requested.resume && join(requested.outDir, CALIBRATION_CHECKPOINT_DIR, CALIBRATION_STATE_FILE),
    log: ctx.log,
  });
  try {
    return await calibrate(requested, ctx, engine);
  } finally {
    release();
  }
}

/** The run itself, in its claimed output folder. */
async function calibrate(requested: CalibrateSettings, ctx: JobContext, engine: CalibrationEngine): Promise<CalibrationReport> {
  const checkpointDir = join(requested.outDir, CALIBRATION_CHECKPOINT_DIR);
  const source = await openModelFolder(requested.modelDir);
  const settings: CalibrationRunSettings = { ...requested, blockSize: blockSizeFor(requested.blockSize, source.spec.maxPositions) };
  const spiking = await stageOneConfig(source);
  if (spiking.scope === 'all') return writeAtTimesteps(source, spiking, settings, ctx);
  const dataPath = settings.dataPath;
  if (!dataPath)
    throw new CalibrationError('Give the text to calibrate on (dataPath, or --data): this model spikes at its FFN site, so its neurons are tuned on text.');
  const { numLayers, ffnSize } = source.spec;
  if (settings.blockSize > source.spec.maxPositions) {
    throw new CalibrationError(`The block size ${settings.blockSize} is longer than the model's context (${source.spec.maxPositions} positions).`);
  }
  const { lambdas } = await readSpikingWeights(source.dir, numLayers, ffnSize, false);
  const resumed = settings.resume ? await loadResumable(checkpointDir, settings, numLayers, ffnSize) : null;

  ctx.progress({ fraction: null, message: 'Reading and tokenising the data' });
  const data = await loadCalibrationData({ ...settings, dataPath }, await loadTokenizer(source.tokenizerFiles, source.config));
  for (const note of data.notes) ctx.log(note);

  ctx.progress({ fraction: null, message: 'Loading the model' });
  const calibrator = await engine.createCalibrator(source.spec, { levels: spiking.L, lambdas, signed: spiking.signed, timesteps: settings.timesteps });
  const onAbort = () => calibrator.abort();
  ctx.signal.addEventListener('abort', onAbort);
  try {
    calibrator.setData(data.ids, data.samples, settings.blockSize, settings.batchSize);
    const progress: CalibrationProgress = resumed?.state.progress ?? {
      layers: Array.from(lambdas, (lambda, layer) => ({ layer, lambda, before: null, coarse: null, fine: null })),
      calibrationKl: null,
      evaluations: {},
    };
    if (resumed) {
      resumed.weights.neurons!.forEach((values, layer) => calibrator.setNeurons(layer, values));
      ctx.log(
        resumed.state.stage === 'done'
          ? 'Every stage was already done; writing the model.'
          : `Resumed at the ${resumed.state.stage} stage, layer ${resumed.state.layer}.`,
      );
    }
    const run = new StageRunner(calibrator, settings, ctx, data, progress, numLayers);
    const save = (stage: CalibrationState['stage'], layer: number) =>
      saveCalibrationCheckpoint(
        checkpointDir,
        { stage, layer, settings: settings as unknown as Record<string, unknown>, progress },
        { lambdas, neurons: neuronsOf(calibrator, numLayers) },
      );

    const stages = stagesOf(settings);
    const from = resumed?.state ?? { stage: 'before' as const, layer: 0 };
    for (const [i, stage] of stages.entries()) {
      if (from.stage === 'done' || i < stages.indexOf(from.stage as Stage)) continue;
      const firstLayer = stage === from.stage ? from.layer : 0;
      if (stage === 'joint') {
        // Saved whole: cancelled half way, the joint pass starts again on resume.
        if (firstLayer === 0) {
          progress.joint = await run.joint();
          await save(stage, 1);
        }
      } else {
        for (let layer = firstLayer; layer < numLayers; layer++) {
          await run.layer(stage, layer);
          await save(stage, layer + 1);
          if (ctx.signal.aborted) throw new JobCancelledError();
        }
      }
      if (data.heldOut.length > 0 && !progress.evaluations[stage]) progress.evaluations[stage] = await run.evaluate(stage);
      await save(stages[i + 1] ?? 'done', 0);
    }

    ctx.progress({ fraction: 1, message: 'Writing the calibrated model', etaSeconds: null });
    const tensors = await readCanonicalTensors(source);
    const recipe = recipeRecord(settings);
    await writeDerivedModel(settings.outDir, {
      source,
      read: (name) => tensors.get(name) ?? missing(name),
      spiking: {
        config: { L: spiking.L, T: settings.timesteps, neuron: 'if-soft-reset', signed: spiking.signed, site: 'ffn_act', calibration: settings.level },
        weights: { lambdas, neurons: neuronsOf(calibrator, numLayers) },
        metadata: { calibration_recipe: recipe.name, calibration_recipe_settings: JSON.stringify(recipe) },
      },
    });
    return {
      ...progress,
      outDir: settings.outDir,
      timesteps: settings.timesteps,
      level: settings.level,
      samples: data.samples,
      blockSize: settings.blockSize,
      recipe,
      scope: settings.recipe === 'paper' ? PAPER_CALIBRATION_SCOPE : CALIBRATION_SCOPE,
    };
  } catch (err) {
    if (ctx.signal.aborted) throw new JobCancelledError();
    throw err;
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    calibrator.dispose();
  }
}

/**
 * Runs one stage on one layer, records the result and reports progress: each row says its stage, and
 * the time left is measured from the pace of the stage in progress (in the units of cost()).
 */
class StageRunner {
  private readonly recipe: RecipeRecord;
  private readonly total: number;
  private done: number;
  private readonly eta = new StageEta();
  private stage: Stage | null = null;

  constructor(
    private readonly calibrator: NativeCalibrator,
    private readonly settings: CalibrationRunSettings,
    private readonly ctx: JobContext,
    private readonly data: CalibrationData,
    private readonly progress: CalibrationProgress,
    private readonly layers: number,
  ) {
    this.recipe = recipeRecord(settings);
    this.total = this.layers * (this.cost('before') + this.cost('coarse') + this.cost('fine')) + this.cost('joint') + STAGES.length;
    this.done = this.workDone();
  }

  /** The stage whose rows follow; its pace is timed from here. */
  private enter(stage: Stage): void {
    if (stage === this.stage) return;
    this.stage = stage;
    this.eta.startStage(this.done);
  }

  async layer(stage: Stage, layer: number): Promise<void> {
    this.enter(stage);
    const row = this.progress.layers[layer]!;
    const of = `layer ${layer + 1} of ${this.layers}`;
    this.report(`${stageName[stage]}, ${of}`, layer, null);
    let loss: number;
    if (stage === 'before') {
      loss = row.before = await this.calibrator.alignLoss(layer);
      this.done += this.cost(stage);
    } else if (stage === 'coarse' && this.settings.recipe === 'paper') {
      // The reference code's fixed start, taken as it is (its KL is not checked).
      const r = await this.calibrator.coarse(layer, { choice: 'reference' });
      this.done += this.cost(stage);
      row.coarse = { theta: r.theta, v0: r.v0, loss: r.loss, startLoss: r.startLoss, referenceLoss: r.referenceLoss, kept: true };
      loss = r.loss;
    } else if (stage === 'coarse') {
      const { result: r, kept } = await this.keepUnlessKlRises(layer, async () => {
        const found = await this.calibrator.coarse(layer);
        this.done += 2;
        return found;
      });
      row.coarse = { theta: r.theta, v0: r.v0, loss: r.loss, startLoss: r.startLoss, referenceLoss: r.referenceLoss, kept };
      loss = r.loss;
    } else {
      // A layer's fine pass is saved whole: cancelled half way, it starts again on resume.
      const { result: losses, kept } = await this.keepUnlessKlRises(layer, async () => {
        await this.calibrator.startFine(layer, { positions: this.recipe.positions, lr: this.settings.lr });
        this.done += 1;
        const epochLosses: number[] = [];
        for (let epoch = 1; epoch <= this.settings.epochs; epoch++) {
          if (this.ctx.signal.aborted) throw new JobCancelledError();
          epochLosses.push((await this.calibrator.fineEpoch(layer)).loss);
          this.done += 1;
          if (epoch < this.settings.epochs) this.report(`${stageName.fine}, ${of}, epoch ${epoch} of ${this.settings.epochs}`, layer, epochLosses.at(-1)!);
        }
        return epochLosses;
      });
      row.fine = { losses, kept };
      loss = losses.at(-1)!;
    }
    this.report(`${stageName[stage]}, ${of} done`, layer, loss);
  }

  /**
   * The joint pass: Adam on every layer's values at once, an epoch at a time. The loss is not a sum
   * of independent parts, so after each epoch the KL on the calibration text decides: the run keeps
   * the epoch with the lowest, or the values it started from when no epoch beats them. The reference
   * recipe keeps its last epoch, as the reference code does (the KL is still measured, for the report).
   */
  async joint(): Promise<JointCalibration> {
    const { jointEpochs: epochs, positions, jointLr: lr, alignWeight, klReduction, keptEpoch } = this.recipe;
    this.enter('joint');
    let best = { kl: (this.progress.calibrationKl ??= await this.calibrationKl()), epoch: 0, values: neuronsOf(this.calibrator, this.layers) };
    this.report(`${stageName.joint}: starting`, null, null);
    await this.calibrator.startJoint({ positions, lr, alignWeight, klReduction });
    const record: JointCalibration = { startKl: best.kl, epochs: [], kept: 0 };
    for (let epoch = 1; epoch <= epochs; epoch++) {
      if (this.ctx.signal.aborted) throw new JobCancelledError();
      const { kl, align } = await this.calibrator.jointEpoch();
      const calibrationKl = await this.calibrationKl();
      record.epochs.push({ kl, align, calibrationKl });
      if (calibrationKl < best.kl || (keptEpoch === 'last' && epoch === epochs))
        best = { kl: calibrationKl, epoch, values: neuronsOf(this.calibrator, this.layers) };
      this.done += this.cost('joint') / epochs;
      this.report(`${stageName.joint}, epoch ${epoch} of ${epochs} done`, null, null, { epoch, kl: calibrationKl });
    }
    best.values.forEach((values, layer) => this.calibrator.setNeurons(layer, values));
    this.progress.calibrationKl = best.kl;
    record.kept = best.epoch;
    return record;
  }

  async evaluate(stage: Stage): Promise<Evaluation> {
    this.enter(stage);
    this.report(`Measuring held-out perplexity and KL ${stage === 'before' ? 'before calibration' : `after the ${stage} pass`}`, null, null);
    const r = await this.compare(this.data.heldOut);
    this.done += 1;
    return { qcfsPerplexity: Math.exp(r.teacherNll / r.tokens), snnPerplexity: Math.exp(r.studentNll / r.tokens), kl: r.kl / r.tokens, tokens: r.tokens };
  }

  /**
   * Applies a layer's new values, then undoes them if they raised the mean KL of the logits on the
   * calibration text: the align loss is only a proxy for the logits, and a layer fitted closer to
   * its teacher can still move the output away from it. Says whether the values were kept.
   */
  private async keepUnlessKlRises<R>(layer: number, change: () => Promise<R>): Promise<{ result: R; kept: boolean }> {
    const previous = this.calibrator.getNeurons(layer);
    const before = (this.progress.calibrationKl ??= await this.calibrationKl());
    const result = await change();
    const after = await this.calibrationKl();
    this.done += 1;
    if (after > before) {
      this.calibrator.setNeurons(layer, previous);
      return { result, kept: false };
    }
    this.progress.calibrationKl = after;
    return { result, kept: true };
  }

  private async calibrationKl(): Promise<number> {
    const { ids, targets, samples } = this.data;
    const size = this.settings.batchSize;
    const block = this.settings.blockSize;
    const batches = [];
    for (let first = 0; first < samples; first += size) {
      const rows = Math.min(size, samples - first);
      batches.push({
        inputs: ids.subarray(first * block, (first + rows) * block),
        targets: targets.subarray(first * block, (first + rows) * block),
        size: rows,
      });
    }
    const r = await this.compare(batches);
    return r.kl / r.tokens;
  }

  private async compare(batches: readonly Pick<Batch, 'inputs' | 'targets' | 'size'>[]): Promise<TeacherStudentComparison> {
    const sum: TeacherStudentComparison = { teacherNll: 0, studentNll: 0, kl: 0, tokens: 0 };
    for (const batch of batches) {
      const r = await this.calibrator.evaluate(batch.inputs, batch.targets, batch.size, this.settings.blockSize);
      sum.teacherNll += r.teacherNll;
      sum.studentNll += r.studentNll;
      sum.kl += r.kl;
      sum.tokens += r.tokens;
    }
    return sum;
  }

  /**
   * Relative cost of one layer of a stage (one visit of the calibration set is 1), or of the whole
   * joint pass: an epoch (forward and back through the network, then the KL once more) took about as
   * long as one visit per layer on the demo model.
   */
  private cost(stage: Stage): number {
    if (!stagesOf(this.settings).includes(stage)) return 0;
    if (stage === 'joint') return this.recipe.jointEpochs * this.layers;
    if (stage === 'fine') return 2 + this.settings.epochs;
    return stage === 'coarse' && this.settings.recipe === 'app' ? 3 : 1;
  }

  private workDone(): number {
    let units = 0;
    for (const row of this.progress.layers) {
      if (row.before !== null) units += this.cost('before');
      if (row.coarse !== null) units += this.cost('coarse');
      if (row.fine !== null) units += this.cost('fine');
    }
    if (this.progress.joint) units += this.cost('joint');
    return units + STAGES.filter((s) => this.progress.evaluations[s]).length;
  }

  private report(message: string, layer: number | null, loss: number | null, extra: Record<string, number> = {}): void {
    const fraction = Math.min(1, this.done / this.total);
    const metrics: Record<string, number> = { ...extra };
    if (this.stage !== null) metrics.stage = STAGES.indexOf(this.stage);
    if (layer !== null) metrics.layer = layer;
    if (loss !== null) metrics.alignLoss = loss;
    this.ctx.progress({ fraction, message, metrics, etaSeconds: this.eta.secondsLeft(this.done, this.total) });
  }
}

const stageName: Record<Stage, string> = {
  before: 'Measuring the uncalibrated model',
  coarse: 'Coarse pass',
  fine: 'Fine pass',
  joint: 'Joint pass, every layer on the KL of the logits',
};

/**
 * Per layer is the coarse pass only; per neuron adds the fine pass and, unless turned off, the joint
 * pass. The reference recipe goes from its fixed start straight to the joint pass.
 */
function stagesOf(settings: CalibrateSettings): readonly Stage[] {
  if (settings.recipe === 'paper') return ['before', 'coarse', 'joint'];
  if (settings.level === 'layer') return ['before', 'coarse'];
  return settings.jointEpochs > 0 ? STAGES : ['before', 'coarse', 'fine'];
}

/**
 * Scope all with layer encoding (fas-method.md section 9): the spiking network equals the quantised
 * model at T = L by construction, so there is nothing to calibrate; the folder is written at the
 * chosen T with its thresholds unchanged.
 */
async function writeAtTimesteps(
  source: OpenedModelFolder,
  spiking: SpikingConfig,
  settings: CalibrationRunSettings,
  ctx: JobContext,
): Promise<CalibrationReport> {
  ctx.log(NO_CALIBRATION_NEEDED);
  ctx.progress({ fraction: null, message: `Writing the model at T = ${settings.timesteps}` });
  const weights = await readAllScopeWeights(source.dir, source.spec);
  const tensors = await readCanonicalTensors(source);
  await writeDerivedModel(settings.outDir, {
    source,
    read: (name) => tensors.get(name) ?? missing(name),
    spiking: { config: { ...spiking, T: settings.timesteps }, weights },
  });
  return {
    layers: [],
    calibrationKl: null,
    evaluations: {},
    outDir: settings.outDir,
    timesteps: settings.timesteps,
    level: settings.level,
    samples: 0,
    blockSize: settings.blockSize,
    scope: NO_CALIBRATION_NEEDED,
    notNeeded: true,
  };
}

async function stageOneConfig(source: OpenedModelFolder): Promise<SpikingConfig> {
  const config = await readSpikingConfig(source.dir);
  if (!config) {
    throw new CalibrationError(`${source.dir} is not a converted model (it has no spiking_config.json). Run stage 1 first: fas finetune.`);
  }
  if (config.calibration !== 'none') {
    throw new CalibrationError(`${source.dir} is already calibrated (per ${config.calibration}). Calibrate the stage-1 folder it came from instead.`);
  }
  return config;
}

async function loadResumable(checkpointDir: string, settings: CalibrateSettings, numLayers: number, ffnSize: number) {
  const loaded = await loadCalibrationCheckpoint(checkpointDir, numLayers, ffnSize);
  if (!loaded) throw new CalibrationError(`There is no calibration checkpoint to resume in ${checkpointDir}. Start without resuming.`);
  // Checkpoints saved before there were recipes followed this app's.
  const saved: Record<string, unknown> = { recipe: 'app', ...loaded.state.settings };
  const changed = RESUME_INVARIANTS.filter((key) => JSON.stringify(saved[key]) !== JSON.stringify(settings[key]));
  if (changed.length > 0) {
    throw new CalibrationError(`The checkpoint was made with different settings (${changed.join(', ')}); resume with the same ones, or start again.`);
  }
  return loaded;
}

function neuronsOf(calibrator: NativeCalibrator, layers: number): NeuronParams[] {
  return Array.from({ length: layers }, (_, layer) => calibrator.getNeurons(layer));
}

function missing(name: string): never {
  throw new CalibrationError(`The model folder has no tensor "${name}" to copy into the calibrated model.`);
}
