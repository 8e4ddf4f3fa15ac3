// Byte-level UTF-8 helpers. TextDecoder (fatal) decides whether bytes are valid but does not say
// where they are not; these find the offset for the error message, and keep a character that
// straddles two read chunks in one piece.

/** Number of bytes a sequence starting with `lead` should have, or 0 when `lead` cannot start one. */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/** Allowed range of the second byte; the WHATWG rules that exclude overlongs, surrogates and > U+10FFFF. */
function secondByteRange(lead: number): [number, number] {
  if (lead === 0xe0) return [0xa0, 0xbf];
  if (lead === 0xed) return [0x80, 0x9f];
  if (lead === 0xf0) return [0x90, 0xbf];
  if (lead === 0xf4) return [0x80, 0x8f];
  return [0x80, 0xbf];
}

/**
 * Offset of the first byte that does not start or continue a valid UTF-8 sequence, -1 when all
 * bytes are valid. A sequence cut off by the end of `bytes` counts as invalid at its first byte.
 */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i];
    const length = sequenceLength(lead);
    if (length === 0 || i + length > bytes.length) return i;
    if (length > 1) {
      const [low, high] = secondByteRange(lead);
      if (bytes[i + 1] < low || bytes[i + 1] > high) return i;
      for (let k = 2; k < length; k++) {
        if ((bytes[i + k] & 0xc0) !== 0x80) return i;
      }
    }
    i += length;
  }
  return -1;
}

/**
 * How many bytes at the end of `bytes` begin a character that the next chunk will complete (0 to 3).
 * Bytes that can never become valid are not held back: the decoder reports them.
 */
export function incompleteTailLength(bytes: Uint8Array): number {
  const end = bytes.length;
  for (let back = 1; back <= 3 && back <= end; back++) {
    const byte = bytes[end - back];
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: keep looking for its lead
    return sequenceLength(byte) > back ? back : 0;
  }
  return 0;
}
