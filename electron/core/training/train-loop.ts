// The training loop shared by `fas train` (pretraining, plain fine-tuning) and FAS stage 1 (the
// same with QCFS at the FFN site, or in scope "all" a quantiser at every input of a matrix product): data, AdamW steps with a schedule, validation, checkpoints,
// exact resume, cancel that keeps the last good checkpoint, and a clear stop on a NaN loss.
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { TrainingResult } from '../../api/contract.js';
import type { NativeAddon, NativeTrainer } from '../../../native/index.js';
import { loadJobDataset, TrainBatches, validationBatches, type BatchCursor, type TokenDataset } from '../data/index.js';
import type { JobContext } from '../jobs/types.js';
import { StageEta } from '../jobs/eta.js';
import { JobCancelledError } from '../jobs/types.js';
import { openModelFolder, type OpenedModelFolder } from '../model/folder.js';
import { loadTokenizer } from '../model/tokenizer.js';
import { hasSignedSite, stage1SpikingConfig } from '../spiking/spiking-config.js';
import { readAllScopeWeights, readSpikingWeights, type AllScopeWeights } from '../spiking/spiking-weights.js';
import { claimOutputFolder } from '../storage/owned-folder.js';
import { loadCheckpoint, OPTIMIZER_FILE, optimizerTensors, STATE_FILE, trainerStateFile, type MeasuredBefore } from './checkpoint.js';
import { TrainingError } from './errors.js';
import { writeDerivedModel, type DerivedModel } from './model-writer.js';
import { lrFactor } from './schedule.js';
import { blockSizeFor } from '../../shared/model-defaults.js';
import { RESUME_INVARIANTS, type TrainRunSettings, type TrainSettings } from './settings.js';
import { readSiteThresholds, setSiteThresholds, startingSiteThresholds } from './site-thresholds.js';

/** The engine entry points the loop needs (the native addon; tests may wrap it): loadModel for scope all's starting thresholds. */
export type TrainingEngine = Pick<NativeAddon, 'createTrainer' | 'loadModel'>;

/** Checkpoints live inside the output folder until the finished model replaces the whole folder. */
export const CHECKPOINT_DIR = 'checkpoint';

export async function runTraining(requested: TrainSettings, ctx: JobContext, engine: TrainingEngine): Promise<TrainingResult> {
  if (requested.scope === 'all' && !requested.qcfs) {
    throw new TrainingError('Scope "all" quantises every layer in FAS stage 1: it needs the QCFS settings (run fas finetune).');
  }
  const release = await claimOutputFolder(requested.outDir, {
    inputs: [requested.modelDir, requested.dataPath],
    overwrite: requested.overwrite,
    resume: requested.resume && join(requested.outDir, CHECKPOINT_DIR, STATE_FILE),
    log: ctx.log,
  });
  try {
    return await train(requested, ctx, engine);
  } finally {
    release();
  }
}

/** The run itself, in its claimed output folder. */
async function train(requested: TrainSettings, ctx: JobContext, engine: TrainingEngine): Promise<TrainingResult> {
  const checkpointDir = join(requested.outDir, CHECKPOINT_DIR);
  const source = await openModelFolder(requested.modelDir);
  const settings: TrainRunSettings = { ...requested, blockSize: blockSizeFor(requested.blockSize, source.spec.maxPositions) };
  const resumeFrom = settings.resume ? await loadResumable(checkpointDir, settings) : null;
  const current = resumeFrom?.folder ?? source;
  const tokenizer = await loadTokenizer(source.tokenizerFiles, source.config);
  if (settings.blockSize > source.spec.maxPositions) {
    throw new TrainingError(`The block size ${settings.blockSize} is longer than the model's context (${source.spec.maxPositions} positions).`);
  }

  ctx.progress({ fraction: null, message: 'Reading and tokenising the data' });
  const dataset = await loadJobDataset(settings, tokenizer.forData());
  for (const note of dataset.notes) ctx.log(note);

  const signed = hasSignedSite(source.spec.family);
  const all = settings.scope === 'all';
  const trainer = await engine.createTrainer(current.spec, { qcfs: settings.qcfs && { ...settings.qcfs, signed, everySite: all, perNeuronFfn: all } });
  // Cancel reaches into the micro-batch in flight: the engine stops it after its forward pass.
  const onAbort = () => trainer.abort();
  ctx.signal.addEventListener('abort', onAbort);
  try {
    let step = 0;
    let cursor: BatchCursor = { epoch: 0, index: 0, seed: settings.seed };
    if (all && !resumeFrom) {
      ctx.progress({ fraction: null, message: "Setting every site's starting thresholds from the model's activations" });
      setSiteThresholds(trainer, await startingSiteThresholds(engine, source.spec, dataset, settings.seed));
    }
    if (resumeFrom) {
      if (all) {
        setSiteThresholds(trainer, await readAllScopeWeights(checkpointDir, current.spec));
      } else if (settings.qcfs) {
        const spiking = await readSpikingWeights(checkpointDir, current.spec.numLayers, current.spec.ffnSize, false);
        spiking.lambdas.forEach((lambda, i) => trainer.setTensor(`layers.${i}.qcfs.lambda`, Float32Array.of(lambda)));
      }
      trainer.setOptimizerState(resumeFrom.optimizer);
      step = resumeFrom.state.step;
      cursor = resumeFrom.state.cursor as BatchCursor;
      ctx.log(`Resumed from the checkpoint at step ${step}.`);
    }
    // A run paused on its last step resumes straight to writing the model.

    const validate = (mode: 'ann' | 'qcfs') => validationPerplexity(trainer, dataset, settings, mode, ctx.signal);
    const trainMode = settings.qcfs ? 'qcfs' : 'ann';
    // Measured once, before the first step, and kept in every checkpoint: a resumed run reports them too.
    const before: MeasuredBefore = resumeFrom?.state.before ?? {
      annPerplexity: settings.qcfs && !resumeFrom ? await validate('ann') : null,
      perplexity: resumeFrom ? null : await validate(trainMode),
    };
    if (!resumeFrom && before.perplexity !== null)
      ctx.progress({ fraction: 0, message: 'Validated the starting model', metrics: { step: 0, valPerplexity: before.perplexity } });

    const batches = new TrainBatches(dataset, settings.batchSize, cursor);
    const tokensPerStep = settings.batchSize * settings.blockSize * settings.gradAccum;
    const save = (atStep: number, at: BatchCursor = batches.cursor) =>
      saveCheckpoint(checkpointDir, source, trainer, settings, { step: atStep, cursor: at, before });
    /** Pause and Cancel keep the work: the checkpoint of the last whole step (its data cursor with it), then stop. */
    const stop = async (atStep: number, at: BatchCursor): Promise<never> => {
      await save(atStep, at);
      throw new JobCancelledError();
    };
    let lastSaved = step;
    const started = Date.now();
    const firstStep = step;
    // Timed from the first step, not from loading and the first validation.
    const eta = new StageEta();
    eta.startStage(step);
    while (step < settings.steps) {
      const factor = lrFactor(step, settings.steps, settings.warmupSteps, settings.decay);
      let lossSum = 0;
      const stepStart = batches.cursor;
      for (let micro = 0; micro < settings.gradAccum; micro++) {
        if (ctx.signal.aborted) await stop(step, stepStart);
        const batch = batches.next();
        const result = await trainer.forwardBackward(batch.inputs, batch.targets, batch.size, settings.blockSize, batch.mask).catch(async (err: unknown) => {
          if (ctx.signal.aborted) await stop(step, stepStart);
          throw err;
        });
        lossSum += result.loss;
      }
      const loss = lossSum / settings.gradAccum;
      const { gradNorm, applied } = await trainer.optimizerStep({
        lr: { decay: settings.lr * factor, noDecay: settings.lr * factor, threshold: settings.thresholdLr * factor },
        weightDecay: settings.weightDecay,
        beta1: settings.beta1,
        beta2: settings.beta2,
        eps: settings.eps,
        clipNorm: settings.clipNorm,
      });
      if (!applied || !Number.isFinite(loss)) {
        throw new TrainingError(
          `Training diverged at step ${step + 1}: the loss became ${loss} (gradient norm ${gradNorm}). ` +
            (lastSaved > 0 ? `The last good checkpoint (step ${lastSaved}) is kept in ${checkpointDir}. ` : '') +
            `Lower the learning rate (now ${settings.lr}) and ${lastSaved > 0 ? 'resume' : 'start again'}.`,
        );
      }
      step++;
      const seconds = (Date.now() - started) / 1000;
      const tokensPerSecond = ((step - firstStep) * tokensPerStep) / Math.max(seconds, 1e-3);
      const metrics: Record<string, number> = { step, loss, lr: settings.lr * factor, gradNorm, tokensPerSecond: Math.round(tokensPerSecond) };
      if (step % settings.valEvery === 0 || step === settings.steps) {
        const ppl = await validate(trainMode);
        if (ppl !== null) metrics.valPerplexity = ppl;
      }
      const message = `Step ${step} of ${settings.steps}, loss ${loss.toFixed(3)}, ${metrics.tokensPerSecond} tokens/s`;
      ctx.progress({ fraction: step / settings.steps, message, metrics, etaSeconds: eta.secondsLeft(step, settings.steps) });
      if (ctx.signal.aborted) await stop(step, batches.cursor);
      if (step % settings.saveEvery === 0 && step < settings.steps) {
        ctx.progress({ fraction: step / settings.steps, message: `Saving a checkpoint at step ${step}` });
        await save(step);
        lastSaved = step;
      }
    }

    ctx.progress({ fraction: 1, message: 'Writing the model', etaSeconds: null });
    const lambdas = settings.qcfs && !all ? readLambdas(trainer, source.spec.numLayers) : null;
    const spiking = spikingPart(settings, all ? readSiteThresholds(trainer, source.spec.numLayers) : lambdas, source);
    await writeDerivedModel(settings.outDir, { source, read: (name) => trainer.getTensor(name), spiking });
    return {
      outDir: settings.outDir,
      steps: step,
      tokensSeen: step * tokensPerStep,
      perplexityBefore: before.perplexity,
      perplexityAfter: await validate(trainMode),
      annPerplexityBefore: before.annPerplexity,
      finalLambdas: lambdas,
    };
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    trainer.dispose();
  }
}

/**
 * Stage 1 output (fas-method.md sections 7 and 9): the QCFS thresholds, neurons not yet calibrated;
 * in scope all every site's thresholds, a folder that needs no calibration.
 */
function spikingPart(settings: TrainSettings, thresholds: number[] | AllScopeWeights | null, source: OpenedModelFolder): DerivedModel['spiking'] {
  if (!settings.qcfs || !thresholds) return undefined;
  const config = stage1SpikingConfig(settings.qcfs.levels, settings.timesteps, source.spec.family, settings.scope);
  if (!Array.isArray(thresholds)) return { config, weights: thresholds };
  return { config, weights: { lambdas: Float32Array.from(thresholds), neurons: null } };
}

function readLambdas(trainer: NativeTrainer, layers: number): number[] {
  return Array.from({ length: layers }, (_, i) => trainer.getTensor(`layers.${i}.qcfs.lambda`)[0]!);
}

/** exp(mean token loss) over the validation blocks, or null when there is no validation set or the job is cancelled. */
async function validationPerplexity(
  trainer: NativeTrainer,
  dataset: TokenDataset,
  settings: TrainRunSettings,
  mode: 'ann' | 'qcfs',
  signal: AbortSignal,
): Promise<number | null> {
  let lossSum = 0;
  let tokens = 0;
  for (const batch of validationBatches(dataset, settings.batchSize, settings.valBlocks)) {
    if (signal.aborted) return null;
    const r = await trainer.evaluate(batch.inputs, batch.targets, batch.size, settings.blockSize, mode, batch.mask);
    lossSum += r.lossSum;
    tokens += r.tokens;
  }
  return tokens === 0 ? null : Math.exp(lossSum / tokens);
}

async function loadResumable(checkpointDir: string, settings: TrainRunSettings) {
  const exists = await access(join(checkpointDir, STATE_FILE)).then(
    () => true,
    () => false,
  );
  if (!exists) throw new TrainingError(`There is no checkpoint to resume in ${checkpointDir}. Start without resuming.`);
  const loaded = await loadCheckpoint(checkpointDir);
  const changed = RESUME_INVARIANTS.filter((key) => JSON.stringify(loaded.state.settings[key]) !== JSON.stringify(settings[key]));
  if (changed.length > 0) {
    throw new TrainingError(`The checkpoint was made with different settings (${changed.join(', ')}); resume with the same ones, or start a new run.`);
  }
  return loaded;
}

async function saveCheckpoint(
  dir: string,
  source: OpenedModelFolder,
  trainer: NativeTrainer,
  settings: TrainSettings,
  at: { step: number; cursor: BatchCursor; before: MeasuredBefore },
): Promise<void> {
  const shapes = new Map(trainer.parameters().map((p) => [p.name, p.shape]));
  const thresholds = !settings.qcfs
    ? null
    : settings.scope === 'all'
      ? readSiteThresholds(trainer, source.spec.numLayers)
      : readLambdas(trainer, source.spec.numLayers);
  await writeDerivedModel(dir, {
    source,
    read: (name) => trainer.getTensor(name),
    spiking: spikingPart(settings, thresholds, source),
    extraFiles: { [STATE_FILE]: trainerStateFile(at.step, at.cursor, settings as unknown as Record<string, unknown>, at.before) },
    extraTensorFiles: { [OPTIMIZER_FILE]: optimizerTensors(trainer.getOptimizerState(), shapes) },
  });
}
