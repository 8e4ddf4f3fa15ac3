// Settings of a calibration run (FAS stage 2, `fas calibrate`), with their defaults.
import { z } from 'zod';
import { MAX_TIMESTEPS } from '../../shared/chat-modes.js';
import { CALIBRATION_RECIPES } from '../../shared/calibration-recipes.js';
import { pathParam } from '../storage/home-path.js';

export const calibrateSettings = z
  .object({
    /** A stage-1 folder: spiking_config.json with calibration "none". */
    modelDir: pathParam,
    /** The text to calibrate on; a model spiking at every layer needs none (it is only written at T). */
    dataPath: pathParam.optional(),
    outDir: pathParam,
    /**
     * 'app': this app's recipe. 'paper': as in the FAS reference code (shared/calibration-recipes
     * PAPER_RECIPE), which fixes level, epochs, lr, jointEpochs, jointLr, alignWeight and maxPositions itself.
     */
    recipe: z.enum(CALIBRATION_RECIPES).default('app'),
    /** Timesteps T of the spiking model being calibrated. */
    timesteps: z.number().int().min(1).max(MAX_TIMESTEPS).default(8),
    /** 'layer': the coarse pass only (one threshold and v0 per layer); 'neuron': then the fine pass. */
    level: z.enum(['layer', 'neuron']).default('neuron'),
    /** Calibration sequences, drawn from the training side of the data. */
    samples: z.number().int().min(1).max(100_000).default(32),
    /** Tokens per sequence; none: shared/model-defaults' default, cut to the model's context. */
    blockSize: z.number().int().min(2).max(1_000_000).optional(),
    /** Sequences captured together, and per Adam step in the fine pass. */
    batchSize: z.number().int().min(1).max(4096).default(4),
    /** Fine pass: epochs over the calibration sequences, per layer. */
    epochs: z.number().int().min(1).max(1000).default(4),
    /** Fine pass: Adam's learning rate (about 3e-3 in FAS). */
    lr: z.number().positive().max(1).default(3e-3),
    /** Joint pass (level 'neuron'): epochs over the calibration sequences, every layer at once; 0 skips it. */
    jointEpochs: z.number().int().min(0).max(1000).default(8),
    /** Joint pass: Adam's learning rate (its few steps per epoch move every layer at once). */
    jointLr: z.number().positive().max(1).default(3e-2),
    /** Joint pass: weight of the summed align losses next to the KL of the logits. */
    alignWeight: z.number().min(0).max(1e6).default(1),
    seed: z.number().int().min(0).default(1),
    /** Fine pass: one value per (position, neuron) for positions below this, the last row beyond. */
    maxPositions: z.number().int().min(1).optional(),
    /** Share of the data held out for the perplexity and KL measurements. */
    validationFraction: z.number().min(0).max(0.5).default(0.1),
    /** Most held-out sequences measured at each evaluation. */
    evalBlocks: z.number().int().min(1).default(32),
    maxDataBytes: z.number().int().positive().optional(),
    resume: z.boolean().default(false),
    /** Replace whatever is in outDir (otherwise a non-empty outDir is refused unless resuming). */
    overwrite: z.boolean().default(false),
  })
  .refine((s) => s.maxPositions === undefined || s.level === 'neuron', {
    message: 'maxPositions (per-position values) needs level "neuron"',
    path: ['maxPositions'],
  })
  .refine((s) => s.recipe !== 'paper' || (s.level === 'neuron' && s.maxPositions === undefined), {
    message: 'the FAS reference recipe fits one value per (position, neuron) up to the block length: leave level and maxPositions unset',
    path: ['recipe'],
  });

export type CalibrateSettings = z.infer<typeof calibrateSettings>;

/** The settings a run uses: the model-dependent defaults filled in for its model (shared/model-defaults). */
export type CalibrationRunSettings = CalibrateSettings & { blockSize: number };

/** Settings that must match when a run resumes: they decide what the saved layers were fitted to. */
export const RESUME_INVARIANTS = [
  'recipe',
  'modelDir',
  'dataPath',
  'timesteps',
  'level',
  'samples',
  'blockSize',
  'batchSize',
  'seed',
  'maxPositions',
  'validationFraction',
  'maxDataBytes',
] as const;
