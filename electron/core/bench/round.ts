/** x to `digits` decimal places: the one rounding of every number `fas bench` reports. */
export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
