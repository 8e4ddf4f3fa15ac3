// 'jobs.limits': the bounds of a job kind's numeric settings, read from its parameter schema, so a
// wizard checks and offers exactly what the job accepts and never keeps a copy of a limit (the
// largest T, the largest batch). Nested settings are named with a dot ("qcfs.levels"), and a list of
// numbers by the limits of each entry ("evalTimesteps").
import { z } from 'zod';
import type { NumberLimits } from '../../api/contract.js';
import { ApiError } from './errors.js';

/** The bounds of every numeric setting of a kind's schema (a kind without an object schema has none). */
export function paramLimits(kinds: Record<string, { params: unknown }>, kind: string): Record<string, NumberLimits> {
  const definition = kinds[kind];
  if (!definition) throw new ApiError('not_found', `Unknown job kind "${kind}".`);
  const limits: Record<string, NumberLimits> = {};
  collect(definition.params, '', limits);
  return limits;
}

function collect(schema: unknown, prefix: string, into: Record<string, NumberLimits>): void {
  const inner = unwrapped(schema);
  if (!(inner instanceof z.ZodObject)) return;
  for (const [key, field] of Object.entries(inner.shape as Record<string, unknown>)) {
    let value = unwrapped(field);
    if (value instanceof z.ZodArray) value = unwrapped(value.element);
    if (value instanceof z.ZodNumber) into[`${prefix}${key}`] = numberLimits(value);
    else if (value instanceof z.ZodObject) collect(value, `${prefix}${key}.`, into);
  }
}

/** The schema inside its defaults, optional and nullable wrappers. */
function unwrapped(schema: unknown): unknown {
  let current = schema;
  while (current instanceof z.ZodDefault || current instanceof z.ZodOptional || current instanceof z.ZodNullable) current = current.unwrap();
  return current;
}

interface CheckDef {
  check?: string;
  format?: string;
  value?: number;
  inclusive?: boolean;
}

/** A number schema's checks as bounds; a whole number's exclusive bound becomes the next whole number. */
function numberLimits(schema: z.ZodNumber): NumberLimits {
  const checks = ((schema._zod.def.checks ?? []) as Array<{ _zod: { def: CheckDef } }>).map((c) => c._zod.def);
  const whole = checks.some((c) => c.format === 'safeint' || c.format === 'int32' || c.format === 'uint32');
  const limits: NumberLimits = { min: null, above: false, max: null, whole };
  for (const c of checks) {
    if (c.check === 'greater_than' && c.value !== undefined) {
      limits.min = whole && !c.inclusive ? Math.floor(c.value) + 1 : c.value;
      limits.above = !whole && !c.inclusive;
    }
    if (c.check === 'less_than' && c.value !== undefined) limits.max = whole && !c.inclusive ? Math.ceil(c.value) - 1 : c.value;
  }
  return limits;
}
