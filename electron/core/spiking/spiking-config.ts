// spiking_config.json: what makes a Hugging Face folder a spiking model (fas-method.md sections 7 and 9).
// Versioned: a folder written by a newer format is refused with a clear message, never misread.
// Version 2 adds the conversion scope ("ffn": the FAS paper's recipe, spikes at the FFN site; "all":
// every matrix product on spikes) and the encoding; version 1 folders read as scope ffn, encoding step.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { MAX_TIMESTEPS } from '../../shared/chat-modes.js';
import type { ModelStage, SpikingInfo } from '../../api/contract.js';
import type { ModelFamily } from '../../../native/index.js';
import { ModelFolderError } from '../model/errors.js';
import { writeJsonAtomic } from '../storage/json-file.js';

export const SPIKING_CONFIG_FILE = 'spiking_config.json';
export const SPIKING_WEIGHTS_FILE = 'spiking.safetensors';
export const SPIKING_FORMAT = 'fas-spiking';
export const SPIKING_FORMAT_VERSION = 2;

const version1 = z.object({
  format: z.literal(SPIKING_FORMAT),
  version: z.literal(1),
  L: z.number().int().min(1).max(256),
  T: z.number().int().min(1).max(MAX_TIMESTEPS),
  neuron: z.literal('if-soft-reset'),
  signed: z.boolean(),
  site: z.literal('ffn_act'),
  calibration: z.enum(['none', 'layer', 'neuron']),
});

const version2 = version1
  .extend({
    version: z.literal(2),
    scope: z.enum(['ffn', 'all']),
    encoding: z.enum(['step', 'layer']),
  })
  // The engine runs the paper's scope with neurons stepping through time, and the all scope with
  // layer encoding (the one that equals the quantised model without calibration).
  .refine((c) => (c.scope === 'all') === (c.encoding === 'layer'), {
    message: 'scope "ffn" goes with encoding "step" and scope "all" with encoding "layer"; this app runs no other pairing',
    path: ['encoding'],
  })
  .refine((c) => c.scope === 'ffn' || c.calibration === 'none', {
    message: 'a scope "all" model with layer encoding needs no neuron calibration, so calibration must be "none"',
    path: ['calibration'],
  });

export type SpikingConfig = z.infer<typeof version2>;
export type SpikingScope = SpikingConfig['scope'];
/** What a job writes: format and version are added by the writer; scope and encoding default to the paper's recipe. */
export type SpikingConfigInput = Omit<SpikingConfig, 'format' | 'version' | 'scope' | 'encoding'> & Partial<Pick<SpikingConfig, 'scope' | 'encoding'>>;

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
  if (version !== 1 && version !== 2) {
    throw new ModelFolderError('unsupported-config', `${file} has unknown spiking format version ${JSON.stringify(version)}; this app reads versions 1 and 2.`);
  }
  const parsed = (version === 1 ? version1 : version2).safeParse(raw);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'file'}: ${i.message}`).join('; ');
    throw new ModelFolderError('invalid-config', `${file} is not a valid FAS spiking config (${detail}).`);
  }
  const data = parsed.data;
  return data.version === 1 ? { ...data, version: 2, scope: 'ffn', encoding: 'step' } : data;
}

/** The LLaMA family's QCFS site is the signed gated product: two-sided QCFS (fas-method.md section 2). */
export function hasSignedSite(family: ModelFamily): boolean {
  return family === 'llama';
}

/** A stage-1 output's config: QCFS thresholds trained, neurons not yet calibrated (scope all: none needed, layer encoding). */
export function stage1SpikingConfig(levels: number, timesteps: number, family: ModelFamily, scope: SpikingScope = 'ffn'): SpikingConfigInput {
  return { L: levels, T: timesteps, neuron: 'if-soft-reset', signed: hasSignedSite(family), site: 'ffn_act', calibration: 'none', scope };
}

/** The file's content in the current version. */
export function spikingConfigJson(config: SpikingConfigInput): SpikingConfig {
  const scope = config.scope ?? 'ffn';
  return { format: SPIKING_FORMAT, version: SPIKING_FORMAT_VERSION, ...config, scope, encoding: config.encoding ?? (scope === 'all' ? 'layer' : 'step') };
}

export function writeSpikingConfig(dir: string, config: SpikingConfigInput): Promise<void> {
  return writeJsonAtomic(join(dir, SPIKING_CONFIG_FILE), spikingConfigJson(config));
}

export function spikingInfo(config: SpikingConfig | null): SpikingInfo | null {
  return config && { levels: config.L, timesteps: config.T, signed: config.signed, calibration: config.calibration, scope: config.scope };
}

export function modelStage(config: SpikingConfig | null): ModelStage {
  if (!config) return 'ann';
  return config.calibration === 'none' ? 'qcfs' : 'calibrated';
}
