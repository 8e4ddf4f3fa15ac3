import { InvalidArgumentError } from 'commander';

/** Option parsers that reject bad values with a message commander prints next to the option. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive whole number.');
  return n;
}

export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number >= 0.');
  return n;
}

export function fraction(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('must be between 0 and 1.');
  return n;
}

/** "1,2,3" -> [1, 2, 3] */
export function intList(value: string): number[] {
  const items = value.split(',').map((s) => s.trim());
  const ns = items.map(Number);
  if (items.length === 0 || ns.some((n) => !Number.isInteger(n) || n < 0)) throw new InvalidArgumentError('must be comma-separated whole numbers, e.g. 1,2,3.');
  return ns;
}
