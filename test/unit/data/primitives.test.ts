import { describe, expect, it } from 'vitest';
import { deriveSeed, mulberry32, shuffledIndices } from '../../../electron/core/random.js';
import { incompleteTailLength, invalidUtf8Offset } from '../../../electron/core/data/utf8.js';

describe('seeded randomness', () => {
  it('repeats for a seed and differs between seeds', () => {
    const draw = (seed: number) => Array.from({ length: 5 }, mulberry32(seed));
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(42).every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('shuffles into a permutation', () => {
    const order = shuffledIndices(100, 9);
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Array.from(order)).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('derives unrelated seeds for neighbouring streams', () => {
    const seeds = new Set([0, 1, 2, 3, -1].map((stream) => deriveSeed(7, stream)));
    expect(seeds.size).toBe(5);
  });
});

describe('UTF-8 helpers', () => {
  const bytes = (...values: number[]) => new Uint8Array(values);

  it.each([
    [bytes(0x61, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x99, 0x82), -1],
    [bytes(0x61, 0x80), 1], // a lone continuation byte
    [bytes(0x61, 0xc0, 0xaf), 1], // an overlong encoding
    [bytes(0x61, 0x62, 0xed, 0xa0, 0x80), 2], // a surrogate
    [bytes(0xf4, 0x90, 0x80, 0x80), 0], // above U+10FFFF
    [bytes(0x61, 0xe2, 0x82), 1], // cut short
  ])('finds the first invalid byte in %o', (input, offset) => {
    expect(invalidUtf8Offset(input)).toBe(offset);
  });

  it.each([
    [bytes(0x61), 0],
    [bytes(0x61, 0xc3), 1],
    [bytes(0x61, 0xe2, 0x82), 2],
    [bytes(0xf0, 0x9f, 0x99), 3],
    [bytes(0xf0, 0x9f, 0x99, 0x82), 0],
    [bytes(0x61, 0xff), 0], // never valid: left for the decoder to report
  ])('holds back the unfinished character at the end of %o', (input, length) => {
    expect(incompleteTailLength(input)).toBe(length);
  });
});
