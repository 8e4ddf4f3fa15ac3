// Training checkpoints: a complete model folder (loadable on its own) plus optimizer.safetensors
// and trainer_state.json, written atomically, so a run resumes bit-exactly from the last one and a
// crash or cancel never leaves a half-written checkpoint.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { TrainerOptimizerState } from '../../../native/index.js';
import type { BatchCursor } from '../data/index.js';
import { openModelFolder, type OpenedModelFolder } from '../model/folder.js';
import { decodeFloats } from '../model/dtype.js';
import { readSafetensorsHeader, readTensorBytes, type WritableTensor } from '../model/safetensors.js';
import { TrainingError } from './errors.js';

export const STATE_FILE = 'trainer_state.json';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
const STATE_FORMAT = 'fas-trainer-state';
const STATE_VERSION = 1;

const stateSchema = z.object({
  format: z.literal(STATE_FORMAT),
  version: z.literal(STATE_VERSION),
  /** Optimizer steps done. */
  step: z.number().int().min(0),
  cursor: z.object({ epoch: z.number().int(), index: z.number().int(), seed: z.number().int() }),
  /** The settings the run was started with: a resume must use the same ones. */
  settings: z.record(z.string(), z.unknown()),
  /** What the run measured before its first step, so a resumed run reports it (absent in checkpoints of older versions). */
  before: z.object({ perplexity: z.number().nullable(), annPerplexity: z.number().nullable() }).optional(),
  savedAt: z.string(),
});

export type TrainerState = z.infer<typeof stateSchema>;

export type OptimizerState = TrainerOptimizerState;

/** Validation perplexities before the first step: of the model trained, and (stage 1) of the original ANN. */
export type MeasuredBefore = NonNullable<TrainerState['before']>;

export function trainerStateFile(step: number, cursor: BatchCursor, settings: Record<string, unknown>, before: MeasuredBefore): string {
  const state: TrainerState = { format: STATE_FORMAT, version: STATE_VERSION, step, cursor, settings, before, savedAt: new Date().toISOString() };
  return JSON.stringify(state, null, 2) + '\n';
}

export function optimizerTensors(state: OptimizerState, shapes: Map<string, number[]>): Record<string, WritableTensor> {
  const out: Record<string, WritableTensor> = {};
  for (const [name, m] of Object.entries(state.m)) {
    const shape = shapes.get(name) ?? [m.length];
    out[`m.${name}`] = { dtype: 'F32', shape, data: m };
    out[`v.${name}`] = { dtype: 'F32', shape, data: state.v[name]! };
  }
  out['adam.step'] = { dtype: 'F32', shape: [1], data: Float32Array.of(state.step) };
  return out;
}

export interface LoadedCheckpoint {
  folder: OpenedModelFolder;
  state: TrainerState;
  optimizer: OptimizerState;
}

/** Reads a checkpoint folder; anything damaged or missing is explained, naming the file. */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const damaged = (what: string, err?: unknown): never => {
    throw new TrainingError(
      `The checkpoint in ${dir} cannot be used: ${what}${err instanceof Error ? ` (${err.message})` : ''}. ` +
        'Start the run again without resuming, or point to another checkpoint.',
    );
  };
  const folder = await openModelFolder(dir).catch((err: unknown) => damaged('its model files are damaged', err));
  const rawState = await readFile(join(dir, STATE_FILE), 'utf8').catch((err: unknown) => damaged(`${STATE_FILE} is missing`, err));
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawState);
  } catch (err) {
    damaged(`${STATE_FILE} is not valid JSON`, err);
  }
  const state = stateSchema.safeParse(parsed);
  if (!state.success) damaged(`${STATE_FILE} is not a trainer state this app wrote`);
  const header = await readSafetensorsHeader(join(dir, OPTIMIZER_FILE)).catch((err: unknown) => damaged(`${OPTIMIZER_FILE} is missing or damaged`, err));
  const optimizer: OptimizerState = { step: 0, m: {}, v: {} };
  for (const [name, tensor] of header.tensors) {
    if (tensor.dtype !== 'F32') damaged(`${OPTIMIZER_FILE} holds ${name} as ${tensor.dtype}, not F32`);
    const values = decodeFloats(await readTensorBytes(tensor), 'F32');
    if (name === 'adam.step') optimizer.step = values[0]!;
    else if (name.startsWith('m.')) optimizer.m[name.slice(2)] = values;
    else if (name.startsWith('v.')) optimizer.v[name.slice(2)] = values;
    else damaged(`${OPTIMIZER_FILE} has an unknown tensor "${name}"`);
  }
  const missing = Object.keys(optimizer.m).filter((n) => !optimizer.v[n]);
  if (missing.length > 0) damaged(`${OPTIMIZER_FILE} lacks the second moments of ${missing.join(', ')}`);
  return { folder, state: state.data!, optimizer };
}
