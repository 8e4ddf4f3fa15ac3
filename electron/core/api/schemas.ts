// Runtime validation of every request's parameters: the transports accept anything from outside
// (another process, a browser page), so the core checks each payload before a handler sees it.
import { z } from 'zod';
import type { MethodName } from '../../api/contract.js';

const none = z.object({}).strict();
const jobId = z.object({ id: z.string().min(1).max(200) }).strict();

export const paramSchemas: { [M in MethodName]: z.ZodType } = {
  'app.info': none,
  'system.hardware': none,
  'jobs.list': none,
  'jobs.get': jobId,
  'jobs.cancel': jobId,
  'jobs.metrics': jobId,
};
