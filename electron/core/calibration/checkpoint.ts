// The resume point of a calibration run, in <out>/checkpoint: every layer's neurons as they stand
// (spiking.safetensors, the format of the finished folder) and the progress so far
// (calibration_state.json: the next layer of the current stage, and the report's rows). Saved after
// each layer of each stage; the state is written last, so after a crash between the two files the
// saved layer is simply done again.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeSafetensors } from '../model/safetensors.js';
import { SPIKING_WEIGHTS_FILE } from '../spiking/spiking-config.js';
import { readSpikingWeights, spikingTensors, type SpikingWeights } from '../spiking/spiking-weights.js';
import { writeJsonAtomic } from '../storage/json-file.js';
import { CalibrationError } from './errors.js';
import { progressSchema, STAGES } from './report.js';

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

export async function saveCalibrationCheckpoint(dir: string, state: Omit<CalibrationState, 'format' | 'version' | 'savedAt'>, weights: SpikingWeights): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeSafetensors(join(dir, SPIKING_WEIGHTS_FILE), spikingTensors(weights));
  await writeJsonAtomic(join(dir, CALIBRATION_STATE_FILE), { format: STATE_FORMAT, version: STATE_VERSION, ...state, savedAt: new Date().toISOString() });
}

/** The saved state and neurons, or null when `dir` holds no calibration checkpoint. */
export async function loadCalibrationCheckpoint(dir: string, numLayers: number, ffnSize: number): Promise<{ state: CalibrationState; weights: SpikingWeights } | null> {
  const damaged = (what: string, err?: unknown): never => {
    throw new CalibrationError(
      `The calibration checkpoint in ${dir} cannot be used: ${what}${err instanceof Error ? ` (${err.message})` : ''}. Start again without resuming.`,
    );
  };
  let text: string;
  try {
    text = await readFile(join(dir, CALIBRATION_STATE_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return damaged(`${CALIBRATION_STATE_FILE} cannot be read`, err);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    damaged(`${CALIBRATION_STATE_FILE} is not valid JSON`, err);
  }
  const state = stateSchema.safeParse(raw);
  if (!state.success) damaged(`${CALIBRATION_STATE_FILE} is not a calibration state this app wrote`);
  const weights = await readSpikingWeights(dir, numLayers, ffnSize, true).catch((err: unknown) => damaged(`${SPIKING_WEIGHTS_FILE} is damaged`, err));
  return { state: state.data!, weights };
}
