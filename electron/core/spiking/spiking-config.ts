// spiking_config.json: what makes a Hugging Face folder a spiking model (fas-method.md section 7).
// Versioned: a folder written by a newer format is refused with a clear message, never misread.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { ModelStage, SpikingInfo } from '../../api/contract.js';
import type { ModelFamily } from '../../../native/index.js';
import { ModelFolderError } from '../model/errors.js';
import { writeJsonAtomic } from '../storage/json-file.js';

export const SPIKING_CONFIG_FILE = 'spiking_config.json';
export const SPIKING_WEIGHTS_FILE = 'spiking.safetensors';
export const SPIKING_FORMAT = 'fas-spiking';
export const SPIKING_FORMAT_VERSION = 1;

const schema = z.object({
  format: z.literal(SPIKING_FORMAT),
  version: z.number().int(),
  L: z.number().int().min(1).max(256),
  T: z.number().int().min(1).max(1024),
  neuron: z.literal('if-soft-reset'),
  signed: z.boolean(),
  site: z.literal('ffn_act'),
  calibration: z.enum(['none', 'layer', 'neuron']),
});

export type SpikingConfig = z.infer<typeof schema>;

/** The folder's spiking config, or null when it is a plain (ANN) model folder. */
export async function readSpikingConfig(dir: string): Promise<SpikingConfig | null> {
  const file = join(dir, SPIKING_CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ModelFolderError('invalid-config', `${file} is not valid JSON.`);
  }
  const version = (raw as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && version > SPIKING_FORMAT_VERSION) {
    throw new ModelFolderError(
      'unsupported-config',
      `${file} uses spiking format version ${version}; this app reads version ${SPIKING_FORMAT_VERSION}. Update the app to open it.`,
    );
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'file'}: ${i.message}`).join('; ');
    throw new ModelFolderError('invalid-config', `${file} is not a valid FAS spiking config (${detail}).`);
  }
  if (parsed.data.version !== SPIKING_FORMAT_VERSION) {
    throw new ModelFolderError('unsupported-config', `${file} has unknown spiking format version ${parsed.data.version}.`);
  }
  return parsed.data;
}

/** The LLaMA family's QCFS site is the signed gated product: two-sided QCFS (fas-method.md section 2). */
export function hasSignedSite(family: ModelFamily): boolean {
  return family === 'llama';
}

/** A stage-1 output's config: QCFS thresholds trained, neurons not yet calibrated. */
export function stage1SpikingConfig(levels: number, timesteps: number, family: ModelFamily): Omit<SpikingConfig, 'format' | 'version'> {
  return { L: levels, T: timesteps, neuron: 'if-soft-reset', signed: hasSignedSite(family), site: 'ffn_act', calibration: 'none' };
}

export function writeSpikingConfig(dir: string, config: Omit<SpikingConfig, 'format' | 'version'>): Promise<void> {
  return writeJsonAtomic(join(dir, SPIKING_CONFIG_FILE), { format: SPIKING_FORMAT, version: SPIKING_FORMAT_VERSION, ...config });
}

export function spikingInfo(config: SpikingConfig | null): SpikingInfo | null {
  return config && { levels: config.L, timesteps: config.T, signed: config.signed, calibration: config.calibration };
}

export function modelStage(config: SpikingConfig | null): ModelStage {
  if (!config) return 'ann';
  return config.calibration === 'none' ? 'qcfs' : 'calibrated';
}
