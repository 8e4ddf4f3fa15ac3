import { describe, expect, it } from 'vitest';
import { bf16BitsToF32, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits } from '../../../electron/core/model/dtype.js';

describe('16-bit float conversions', () => {
  /** Bit patterns that do not come back from decode -> encode (a NaN only has to stay a NaN). */
  function mismatches(decode: (bits: number) => number, encode: (value: number) => number): number[] {
    const bad: number[] = [];
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = decode(bits);
      const back = encode(value);
      if (Number.isNaN(value) ? !Number.isNaN(decode(back)) : back !== bits) bad.push(bits);
    }
    return bad;
  }

  it('every F16 bit pattern survives decode -> encode', () => {
    expect(mismatches(f16BitsToF32, f32ToF16Bits)).toEqual([]);
  });

  it('every BF16 bit pattern survives decode -> encode', () => {
    expect(mismatches(bf16BitsToF32, f32ToBf16Bits)).toEqual([]);
  });

  it('rounds F16 to nearest even, with overflow and underflow', () => {
    expect(f32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // halfway, ties to even (down)
    expect(f32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // halfway, ties to even (up)
    expect(f32ToF16Bits(65504)).toBe(0x7bff);
    expect(f32ToF16Bits(65520)).toBe(0x7c00); // rounds up to infinity
    expect(f32ToF16Bits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(f32ToF16Bits(2 ** -25)).toBe(0x0000); // halfway to zero, ties to even
    expect(f32ToF16Bits(-0)).toBe(0x8000);
  });

  it('rounds BF16 to nearest even', () => {
    expect(f32ToBf16Bits(1 + 2 ** -8)).toBe(0x3f80);
    expect(f32ToBf16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(bf16BitsToF32(0x3f80)).toBe(1);
  });
});
