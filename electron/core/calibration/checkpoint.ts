// The resume point of a calibration run, in <out>/checkpoint: every layer's neurons as they stand
// (spiking.safetensors, the format of the finished folder) and the progress so far
// (calibration_state.json: the next layer of the current stage, and the report's rows). Saved after
// each layer of each stage, both files in one atomic folder swap, so a resume is always exact.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeSafetensors } from '../model/safetensors.js';
import { SPIKING_WEIGHTS_FILE } from '../spiking/spiking-config.js';
import { readSpikingWeights, spikingTensors, type SpikingWeights } from '../spiking/spiking-weights.js';
import { writeNewFileDurably } from '../storage/atomic.js';
import { writeFolderAtomically } from '../storage/owned-folder.js';
import { CalibrationError } from './errors.js';
import { progressSchema, STAGES } from './report.js';

/** The checkpoint's folder inside the run's output folder. */
export const CALIBRATION_CHECKPOINT_DIR = 'checkpoint';
export const CALIBRATION_STATE_FILE = 'calibration_state.json';
const STATE_FORMAT = 'fas-calibration-state';
const STATE_VERSION = 1;

const stateSchema = z.object({
  format: z.literal(STATE_FORMAT),
  version: z.literal(STATE_VERSION),
  /** The stage in progress and its next layer (stage 'done' once every stage finished). */
  stage: z.enum([...STAGES, 'done']),
  layer: z.number().int().min(0),
  settings: z.record(z.string(), z.unknown()),
  progress: progressSchema,
  savedAt: z.string(),
});

export type CalibrationState = z.infer<typeof stateSchema>;

/** Writes the neurons and the state together in one folder swap, so a crash keeps the previous pair whole. */
export async function saveCalibrationCheckpoint(
  dir: string,
  state: Omit<CalibrationState, 'format' | 'version' | 'savedAt'>,
  weights: SpikingWeights,
): Promise<void> {
  const json = JSON.stringify({ format: STATE_FORMAT, version: STATE_VERSION, ...state, savedAt: new Date().toISOString() }, null, 2) + '\n';
  await writeFolderAtomically(dir, async (temp) => {
    await writeSafetensors(join(temp, SPIKING_WEIGHTS_FILE), spikingTensors(weights));
    await writeNewFileDurably(join(temp, CALIBRATION_STATE_FILE), Buffer.from(json));
  });
}

function damaged(dir: string, what: string, err?: unknown): never {
  throw new CalibrationError(
    `The calibration checkpoint in ${dir} cannot be used: ${what}${err instanceof Error ? ` (${err.message})` : ''}. Start again without resuming.`,
  );
}

/** The saved state and neurons, or null when `dir` holds no calibration checkpoint. */
export async function loadCalibrationCheckpoint(
  dir: string,
  numLayers: number,
  ffnSize: number,
): Promise<{ state: CalibrationState; weights: SpikingWeights } | null> {
  const state = await readCalibrationState(dir);
  if (!state) return null;
  const weights = await readSpikingWeights(dir, numLayers, ffnSize, true).catch((err: unknown) => damaged(dir, `${SPIKING_WEIGHTS_FILE} is damaged`, err));
  return { state, weights };
}

/** Where a run with this state continues, in words. */
export function nextStep(state: CalibrationState): string {
  const layers = state.progress.layers.length;
  if (state.stage === 'done') return 'writing the model';
  if (state.stage === 'joint') return state.layer > 0 ? 'the held-out measurement after the joint pass' : 'the joint pass';
  const stage = { before: 'measuring the uncalibrated model', coarse: 'the coarse pass', fine: 'the fine pass' }[state.stage];
  return state.layer < layers ? `${stage}, layer ${state.layer + 1} of ${layers}` : `${stage}, its held-out measurement`;
}

/** The saved state alone (where the run stands), or null when `dir` holds none. */
export async function readCalibrationState(dir: string): Promise<CalibrationState | null> {
  let text: string;
  try {
    text = await readFile(join(dir, CALIBRATION_STATE_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return damaged(dir, `${CALIBRATION_STATE_FILE} cannot be read`, err);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    damaged(dir, `${CALIBRATION_STATE_FILE} is not valid JSON`, err);
  }
  const state = stateSchema.safeParse(raw);
  if (!state.success) damaged(dir, `${CALIBRATION_STATE_FILE} is not a calibration state this app wrote`);
  return state.data!;
}
