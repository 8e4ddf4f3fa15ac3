// The whole conversion in one job: FAS stage 1 (QCFS fine-tuning), stage 2 (neuron calibration),
// then evaluation of the original, QCFS and spiking models on held-out text, with firing rates and
// energy. `fas convert --demo` runs it on the bundled demo model. In scope "all" (fas-method.md
// section 9) stage 1 quantises every layer and stage 2 needs no calibration: it writes the folder at T.
import { join } from 'node:path';
import { z } from 'zod';
import { pathParam } from '../storage/home-path.js';
import { loadNative } from '../../../native/index.js';
import { calibrateSettings } from '../calibration/settings.js';
import { runCalibration } from '../calibration/run-calibration.js';
import { evalSettings, runEvaluation } from '../eval/evaluate.js';
import type { JobContext } from '../jobs/types.js';
import { prepareParentFolder } from '../storage/owned-folder.js';
import { finetuneSettings } from '../training/settings.js';
import { CONVERT_STAGE_FOLDERS } from '../../shared/model-names.js';
import type { ConversionSummary } from '../../api/contract.js';
import { runTraining } from '../training/train-loop.js';

export const convertSettings = z
  .object({
    modelDir: pathParam,
    dataPath: pathParam,
    outDir: pathParam,
    /** What spikes: "ffn", the FFN site (the FAS paper's recipe); "all", every layer. */
    scope: finetuneSettings.shape.scope,
    /** Stage 1 */
    steps: z.number().int().min(1).default(60),
    batchSize: z.number().int().min(1).default(8),
    /** Tokens per sequence; none: shared/model-defaults' default, cut to the model's context. */
    blockSize: z.number().int().min(2).optional(),
    maxDataBytes: z.number().int().positive().default(2_000_000),
    /** Stage 2 */
    timesteps: calibrateSettings.shape.timesteps,
    level: calibrateSettings.shape.level,
    recipe: calibrateSettings.shape.recipe,
    samples: calibrateSettings.shape.samples,
    /** Evaluation */
    evalTask: z.string().default('ppl'),
    evalTokens: z.number().int().positive().default(4096),
    evalTimesteps: z.array(calibrateSettings.shape.timesteps.unwrap()).default([4, 8]),
    seed: z.number().int().min(0).default(1),
    /** Replace the stage folders of an earlier conversion into the same outDir. */
    overwrite: z.boolean().default(false),
  })
  .refine((s) => s.recipe !== 'paper' || s.level === 'neuron', {
    message: 'the FAS reference recipe fits one value per (position, neuron): leave level unset',
    path: ['recipe'],
  });
export type ConvertSettings = z.infer<typeof convertSettings>;

/**
 * A context whose progress fills [from, to] of the parent's bar. The part's time left covers the rest
 * of the part; the parts after it are assumed to go at the same pace per share of the bar.
 */
function part(ctx: JobContext, from: number, to: number, label: string): JobContext {
  return {
    ...ctx,
    progress: (u) => {
      const fraction = u.fraction === null ? from : from + (to - from) * u.fraction;
      const partLeft = to - fraction;
      const etaSeconds = u.etaSeconds == null || partLeft <= 0.001 ? u.etaSeconds : Math.round((u.etaSeconds * (1 - fraction)) / partLeft);
      ctx.progress({ ...u, fraction, etaSeconds, message: `${label}: ${u.message}` });
    },
  };
}

export async function runConversion(settings: ConvertSettings, ctx: JobContext): Promise<ConversionSummary> {
  const s = settings;
  const stage1Dir = join(s.outDir, CONVERT_STAGE_FOLDERS[1]);
  const stage2Dir = join(s.outDir, CONVERT_STAGE_FOLDERS[2]);
  await prepareParentFolder(s.outDir, [s.modelDir, s.dataPath]);
  const native = loadNative();
  const stage1 = await runTraining(
    finetuneSettings.parse({
      modelDir: s.modelDir,
      dataPath: s.dataPath,
      outDir: stage1Dir,
      scope: s.scope,
      steps: s.steps,
      batchSize: s.batchSize,
      blockSize: s.blockSize,
      maxDataBytes: s.maxDataBytes,
      timesteps: s.timesteps,
      valEvery: Math.max(1, Math.floor(s.steps / 4)),
      saveEvery: s.steps,
      seed: s.seed,
      overwrite: s.overwrite,
    }),
    part(ctx, 0, 0.5, 'Stage 1, QCFS fine-tuning'),
    native,
  );
  const calibration = await runCalibration(
    calibrateSettings.parse({
      modelDir: stage1Dir,
      dataPath: s.dataPath,
      outDir: stage2Dir,
      timesteps: s.timesteps,
      level: s.level,
      recipe: s.recipe,
      samples: s.samples,
      blockSize: s.blockSize,
      maxDataBytes: s.maxDataBytes,
      seed: s.seed,
      overwrite: s.overwrite,
    }),
    part(ctx, 0.5, 0.8, 'Stage 2, calibration'),
    native,
  );
  const evaluation = await runEvaluation(
    evalSettings.parse({ modelDir: stage2Dir, task: s.evalTask, timesteps: s.evalTimesteps, limit: s.evalTokens, blockSize: s.blockSize }),
    part(ctx, 0.8, 1, 'Evaluation'),
  );
  return { stage1, calibration, evaluation, modelDir: stage2Dir };
}
