// Settings of a training run (`fas train`, and FAS stage 1 with `qcfs`), with their defaults.
import { z } from 'zod';
import { MAX_TIMESTEPS } from '../../shared/chat-modes.js';
import { pathParam } from '../storage/home-path.js';

export const qcfsSettings = z.object({
  /** Quantisation levels L (8 in every published FAS run). */
  levels: z.number().int().min(1).max(64).default(8),
  /** Initial threshold lambda of every layer (2.0 for GPT-2 in the FAS reference code). */
  initialLambda: z.number().min(1e-3).default(2),
});

export const trainSettings = z.object({
  modelDir: pathParam,
  dataPath: pathParam,
  outDir: pathParam,
  steps: z.number().int().min(1).max(10_000_000).default(200),
  batchSize: z.number().int().min(1).max(4096).default(8),
  /** Tokens per sequence; none: shared/model-defaults' default, cut to the model's context. */
  blockSize: z.number().int().min(2).max(1_000_000).optional(),
  gradAccum: z.number().int().min(1).max(1024).default(1),
  lr: z.number().positive().max(1).default(3e-4),
  /** Learning rate of the QCFS thresholds, much larger than the weights' in FAS. */
  thresholdLr: z.number().positive().max(10).default(1e-2),
  weightDecay: z.number().min(0).max(1).default(0.01),
  warmupSteps: z.number().int().min(0).default(0),
  decay: z.enum(['linear', 'cosine', 'constant']).default('linear'),
  clipNorm: z.number().min(0).default(1),
  beta1: z.number().min(0).max(1).default(0.9),
  beta2: z.number().min(0).max(1).default(0.999),
  eps: z.number().positive().default(1e-8),
  validationFraction: z.number().min(0).max(0.5).default(0.05),
  valEvery: z.number().int().min(1).default(50),
  /** Most validation blocks per evaluation (the held-out set may be large). */
  valBlocks: z.number().int().min(1).default(64),
  saveEvery: z.number().int().min(1).default(100),
  seed: z.number().int().min(0).default(1),
  /** Stop reading the data after this many bytes (big corpora). */
  maxDataBytes: z.number().int().positive().optional(),
  /** FAS stage 1: replace the FFN activation by QCFS. */
  qcfs: qcfsSettings.nullable().default(null),
  /**
   * Stage 1's conversion scope (fas-method.md section 9): "ffn", QCFS at the FFN site (the paper's
   * recipe); "all", a quantiser with a threshold per channel at every input of a matrix product,
   * starting from activation statistics on the training text (needs qcfs).
   */
  scope: z.enum(['ffn', 'all']).default('ffn'),
  /** Timesteps recorded in spiking_config.json for later stages (stage 1 output only). */
  timesteps: z.number().int().min(1).max(MAX_TIMESTEPS).default(8),
  resume: z.boolean().default(false),
  /** Replace whatever is in outDir (otherwise a non-empty outDir is refused unless resuming). */
  overwrite: z.boolean().default(false),
});

export type TrainSettings = z.infer<typeof trainSettings>;

/** The settings a run uses: the model-dependent defaults filled in for its model (shared/model-defaults). */
export type TrainRunSettings = TrainSettings & { blockSize: number };

/** Settings that must match when a run resumes (the rest, such as steps, may change). */
export const RESUME_INVARIANTS = ['dataPath', 'batchSize', 'blockSize', 'gradAccum', 'seed', 'validationFraction', 'qcfs', 'scope'] as const;

/** FAS stage 1: the same loop with QCFS on, and learning rates suited to fine-tuning. */
export const finetuneSettings = trainSettings.extend({
  qcfs: qcfsSettings.default({ levels: 8, initialLambda: 2 }),
  lr: z.number().positive().max(1).default(1e-4),
  thresholdLr: z.number().positive().max(10).default(1e-2),
});
