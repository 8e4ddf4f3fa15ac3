// Element types of safetensors files and conversions between float32 and the 16-bit formats.
// Typed-array views assume a little-endian host, which every platform the app ships on is
// (x64 and arm64); safetensors data is little-endian too.

/** Every dtype the safetensors format defines with a whole number of bytes per element. */
export const DTYPE_BYTES = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  F8_E8M0: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
  C64: 8,
} as const;

export type SafetensorsDType = keyof typeof DTYPE_BYTES;

/** The float types the engine and the writer handle. */
export type FloatDType = 'F32' | 'F16' | 'BF16';

export function isKnownDType(value: string): value is SafetensorsDType {
  return Object.hasOwn(DTYPE_BYTES, value);
}

export function isFloatDType(value: string): value is FloatDType {
  return value === 'F32' || value === 'F16' || value === 'BF16';
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half precision bits of a number, rounded to nearest even (overflow becomes infinity). */
export function f32ToF16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Half subnormal: shift the mantissa (with its implicit bit) into the 10-bit field.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

export function f16BitsToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** bfloat16 bits of a number, rounded to nearest even; NaN stays NaN. */
export function f32ToBf16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  if (Number.isNaN(value)) return (x >>> 16) | 0x40;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

export function bf16BitsToF32(bits: number): number {
  u32[0] = bits << 16;
  return f32[0];
}

/** Encodes float values as raw F16 or BF16 bits. */
export function encodeHalf(values: Float32Array, dtype: 'F16' | 'BF16'): Uint16Array {
  const toBits = dtype === 'F16' ? f32ToF16Bits : f32ToBf16Bits;
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toBits(values[i]);
  return out;
}

/** Decodes raw little-endian F32/F16/BF16 bytes to float32 values. */
export function decodeFloats(bytes: Uint8Array, dtype: FloatDType): Float32Array {
  // Copy first so the typed-array view is aligned whatever the source offset.
  const buffer = bytes.slice().buffer;
  if (dtype === 'F32') return new Float32Array(buffer);
  const bits = new Uint16Array(buffer);
  const fromBits = dtype === 'F16' ? f16BitsToF32 : bf16BitsToF32;
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = fromBits(bits[i]);
  return out;
}

/** Rounds values to what the dtype can hold, e.g. to know exactly what a file will contain. */
export function roundToDType(values: Float32Array, dtype: FloatDType): Float32Array {
  if (dtype === 'F32') return values;
  return decodeFloats(new Uint8Array(encodeHalf(values, dtype).buffer), dtype);
}
