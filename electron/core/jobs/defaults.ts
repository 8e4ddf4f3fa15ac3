// 'jobs.defaults': the default settings of a job kind, read from its parameter schema, so a wizard
// shows exactly the values a job would use and never keeps a copy of them.
import { z } from 'zod';
import { ApiError } from '../api/errors.js';
import type { JobKind } from './job-manager.js';

export function paramDefaults(kinds: Record<string, JobKind>, kind: string): Record<string, unknown> {
  const definition = kinds[kind];
  if (!definition) throw new ApiError('not_found', `Unknown job kind "${kind}".`);
  const schema = definition.params;
  if (!(schema instanceof z.ZodObject)) return {};
  const defaults: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
    const parsed = field.safeParse(undefined);
    if (parsed.success && parsed.data !== undefined) defaults[key] = parsed.data;
  }
  return defaults;
}
