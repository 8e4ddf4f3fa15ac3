// Runtime validation of every request's parameters: the transports accept anything from outside
// (another process, a browser page), so the core checks each payload before a handler sees it.
import { z } from 'zod';
import type { MethodName } from '../../api/contract.js';

const none = z.object({}).strict();

export const paramSchemas: { [M in MethodName]: z.ZodType } = {
  'app.info': none,
  'system.hardware': none,
};
