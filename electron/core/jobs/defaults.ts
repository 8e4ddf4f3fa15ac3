// 'jobs.defaults': the default settings of a job kind, read from its parameter schema, so a wizard
// shows exactly the values a job would use and never keeps a copy of them. Defaults that depend on the
// model (shared/model-defaults) are given at their usual value; the wizard and the job cut them to it.
import { z } from 'zod';
import { ApiError } from '../api/errors.js';
import { DEFAULT_BLOCK_SIZE } from '../../shared/model-defaults.js';
import type { JobKind } from './job-manager.js';

const MODEL_DEPENDENT: Record<string, unknown> = { blockSize: DEFAULT_BLOCK_SIZE };

export function paramDefaults(kinds: Record<string, JobKind>, kind: string): Record<string, unknown> {
  const definition = kinds[kind];
  if (!definition) throw new ApiError('not_found', `Unknown job kind "${kind}".`);
  const schema = definition.params;
  if (!(schema instanceof z.ZodObject)) return {};
  const defaults: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
    const parsed = field.safeParse(undefined);
    if (parsed.success && parsed.data !== undefined) defaults[key] = parsed.data;
    else if (key in MODEL_DEPENDENT) defaults[key] = MODEL_DEPENDENT[key];
  }
  return defaults;
}
