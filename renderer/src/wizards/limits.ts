// A job setting's bounds as the core's schema has them ('jobs.limits'), checked and said in words, so a
// wizard never keeps its own copy of a limit.
// With .js extensions, as the tests type-check this module under Node's module resolution too.
import type { NumberLimits } from '../../../electron/api/contract.js';

const number = (n: number) => n.toLocaleString('en');

/** Whether the setting accepts this value. */
export function withinLimits(value: number, l: NumberLimits): boolean {
  if (!Number.isFinite(value) || (l.whole && !Number.isInteger(value))) return false;
  if (l.min !== null && (l.above ? value <= l.min : value < l.min)) return false;
  return l.max === null || value <= l.max;
}

/** What the setting accepts, in words: "a whole number from 1 to 1,024", "a number above 0, at most 1". */
export function limitWords(l: NumberLimits): string {
  const kind = l.whole ? 'a whole number' : 'a number';
  if (l.min !== null && l.max !== null)
    return l.above ? `${kind} above ${number(l.min)}, at most ${number(l.max)}` : `${kind} from ${number(l.min)} to ${number(l.max)}`;
  if (l.min !== null) return l.above ? `${kind} above ${number(l.min)}` : `${kind} of at least ${number(l.min)}`;
  if (l.max !== null) return `${kind} of at most ${number(l.max)}`;
  return kind;
}

/** Why the setting does not accept the value, e.g. "T must be a whole number from 1 to 1,024."; null when it does (or has no bounds). */
export function limitProblem(name: string, value: number, l: NumberLimits | undefined): string | null {
  if (!l) return Number.isFinite(value) ? null : `${name} must be a number.`;
  return withinLimits(value, l) ? null : `${name} must be ${limitWords(l)}.`;
}
