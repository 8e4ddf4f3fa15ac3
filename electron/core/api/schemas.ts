// Runtime validation of every request's parameters: the transports accept anything from outside
// (another process, a browser page), so the core checks each payload before a handler sees it.
import { z } from 'zod';
import { MAX_TIMESTEPS } from '../../shared/chat-modes.js';
import { MAX_MODEL_NAME_CHARS } from '../library/library.js';
import type { MethodName } from '../../api/contract.js';
import { chatParamSchemas } from '../chat/chat-schemas.js';
import { exportJobSettings } from '../cluster/settings.js';

const none = z.object({}).strict();
const byId = z.object({ id: z.string().min(1).max(200) }).strict();

export const paramSchemas: { [M in MethodName]: z.ZodType } = {
  'app.info': none,
  'system.hardware': none,
  'models.list': none,
  'models.open': z.object({ path: z.string().min(1).max(4096) }).strict(),
  'models.remove': byId,
  'models.rename': z.object({ id: z.string().min(1).max(200), name: z.string().max(MAX_MODEL_NAME_CHARS) }).strict(),
  'jobs.start': z.object({ kind: z.string().min(1).max(100), params: z.unknown() }).strict(),
  'jobs.list': none,
  'jobs.get': byId,
  'jobs.cancel': byId,
  'jobs.pause': byId,
  'jobs.metrics': byId,
  'presets.list': z.object({ kind: z.string().max(100) }).strict(),
  'presets.save': z.object({ kind: z.string().max(100), name: z.string().max(1000), values: z.record(z.string(), z.unknown()) }).strict(),
  'presets.delete': z.object({ kind: z.string().max(100), name: z.string().max(1000) }).strict(),
  'models.estimate': z
    .object({
      id: z.string().min(1).max(200),
      job: z.enum(['finetune', 'train', 'calibrate', 'chat', 'evaluate']),
      batchSize: z.number().int().min(1).max(4096),
      blockSize: z.number().int().min(1).max(1_000_000),
      timesteps: z.number().int().min(1).max(MAX_TIMESTEPS).optional(),
      neuronPositions: z.number().int().min(1).max(1_000_000).optional(),
    })
    .strict(),
  'jobs.defaults': z.object({ kind: z.string().min(1).max(100) }).strict(),
  'jobs.limits': z.object({ kind: z.string().min(1).max(100) }).strict(),
  'jobs.resumeInfo': byId,
  'jobs.resume': byId,
  'cluster.exportJob': exportJobSettings.strict(),
  'cluster.importJob': z.object({ jobDir: z.string().min(1).max(4096) }).strict(),
  'data.corpora': none,
  'data.check': z.object({ path: z.string().min(1).max(4096) }).strict(),
  'eval.tasks': none,
  'jobs.report': byId,
  ...chatParamSchemas,
};
