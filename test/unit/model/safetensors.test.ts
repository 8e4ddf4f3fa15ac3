import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFloats, roundToDType } from '../../../electron/core/model/dtype.js';
import { SafetensorsError, readSafetensorsHeader, readTensorBytes, writeSafetensors } from '../../../electron/core/model/safetensors.js';
import { tempDir } from '../../helpers/tiny-models.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ path: dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

let counter = 0;
/** Writes a file with any header (object, text or bytes) and data, optionally lying about the length. */
async function rawFile(header: unknown, data = new Uint8Array(0), declaredLength?: bigint): Promise<string> {
  const file = join(dir, `raw-${counter++}.safetensors`);
  const json = Buffer.isBuffer(header) ? header : Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(declaredLength ?? BigInt(json.length));
  await writeFile(file, Buffer.concat([length, json, data]));
  return file;
}

async function rejection(file: string): Promise<SafetensorsError> {
  const error = await readSafetensorsHeader(file).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SafetensorsError);
  const typed = error as SafetensorsError;
  expect(typed.file).toBe(file);
  expect(typed.message).toContain(file);
  return typed;
}

const f32 = (count: number) => ({ dtype: 'F32', shape: [count], data_offsets: [0, 4 * count] });

describe('readSafetensorsHeader rejects malformed files', () => {
  it('a file shorter than the length field', async () => {
    const file = join(dir, 'short.safetensors');
    await writeFile(file, Buffer.from([1, 2, 3]));
    expect((await rejection(file)).problem).toMatch(/too short/);
  });

  it('a header length beyond the end of the file', async () => {
    const file = await rawFile({ a: f32(1) }, new Uint8Array(4), 5000n);
    expect((await rejection(file)).problem).toMatch(/claims 5000 bytes but the file has only/);
  });

  it('an absurdly large header length', async () => {
    const file = await rawFile({}, new Uint8Array(0), 2n ** 62n);
    expect((await rejection(file)).problem).toMatch(/more than the 100000000-byte limit/);
  });

  it('invalid UTF-8 and invalid JSON', async () => {
    expect((await rejection(await rawFile(Buffer.from([0x7b, 0xff, 0x7d])))).problem).toBe('the header is not valid UTF-8');
    const bad = await rawFile('{"a": {"dtype": "F32",');
    expect((await rejection(bad)).problem).toMatch(/not valid JSON/);
  });

  it('a header that is not an object, and entries that are not objects', async () => {
    expect((await rejection(await rawFile([1, 2]))).problem).toMatch(/not a JSON object/);
    const error = await rejection(await rawFile({ weight: 5 }));
    expect(error.tensor).toBe('weight');
    expect(error.message).toContain('tensor "weight"');
  });

  it('an unknown dtype', async () => {
    const error = await rejection(await rawFile({ w: { dtype: 'F17', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)));
    expect(error.tensor).toBe('w');
    expect(error.problem).toMatch(/unknown dtype "F17"/);
  });

  it.each([
    ['non-integer', [2.5]],
    ['negative', [-1]],
    ['not a list', 3],
    ['beyond safe integers', [2 ** 60]],
  ])('an invalid shape (%s)', async (_, shape) => {
    const error = await rejection(await rawFile({ w: { dtype: 'F32', shape, data_offsets: [0, 4] } }, new Uint8Array(4)));
    expect(error.tensor).toBe('w');
    expect(error.problem).toMatch(/invalid shape/);
  });

  it.each([
    ['past the data', [0, 8], /fall outside the 4 bytes/],
    ['reversed', [4, 0], /fall outside/],
    ['not a pair', [0], /invalid data_offsets/],
    ['negative', [-4, 0], /invalid data_offsets/],
  ])('data_offsets %s', async (_, offsets, message) => {
    const error = await rejection(await rawFile({ w: { dtype: 'F32', shape: [1], data_offsets: offsets } }, new Uint8Array(4)));
    expect(error.problem).toMatch(message);
  });

  it('a byte range that does not match dtype x shape', async () => {
    const error = await rejection(await rawFile({ w: { dtype: 'F16', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)));
    expect(error.problem).toBe('holds 8 bytes but F16 [3] needs 6');
  });

  it('a shape whose byte count overflows', async () => {
    const header = { w: { dtype: 'F64', shape: [2 ** 30, 2 ** 30, 2 ** 30], data_offsets: [0, 8] } };
    expect((await rejection(await rawFile(header, new Uint8Array(8)))).problem).toMatch(/impossible number/);
  });

  it('overlapping tensors', async () => {
    const header = {
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
    };
    const error = await rejection(await rawFile(header, new Uint8Array(12)));
    expect(error.tensor).toBe('b');
    expect(error.problem).toMatch(/overlaps tensor "a"/);
  });

  it('__metadata__ that is not an object of strings', async () => {
    const error = await rejection(await rawFile({ __metadata__: { format: 1 }, a: f32(1) }, new Uint8Array(4)));
    expect(error.problem).toMatch(/__metadata__/);
  });
});

describe('readSafetensorsHeader accepts valid files', () => {
  it('reads metadata, scalars, empty tensors and absolute offsets', async () => {
    const header = {
      __metadata__: { format: 'pt' },
      scalar: { dtype: 'F32', shape: [], data_offsets: [0, 4] },
      empty: { dtype: 'BF16', shape: [0, 3], data_offsets: [4, 4] },
      ints: { dtype: 'I64', shape: [1], data_offsets: [4, 12] },
    };
    const file = await rawFile(header, new Uint8Array(12));
    const parsed = await readSafetensorsHeader(file);
    const headerLength = Buffer.byteLength(JSON.stringify(header));
    expect(parsed.metadata).toEqual({ format: 'pt' });
    expect(parsed.headerLength).toBe(headerLength);
    expect(parsed.tensors.get('scalar')).toMatchObject({ dtype: 'F32', shape: [], offset: 8 + headerLength, byteLength: 4 });
    expect(parsed.tensors.get('empty')).toMatchObject({ shape: [0, 3], byteLength: 0 });
    expect(parsed.tensors.get('ints')).toMatchObject({ offset: 8 + headerLength + 4, byteLength: 8 });
  });
});

describe('writeSafetensors', () => {
  const values = Float32Array.from([1.5, -2.25, 3.1415927, 65504, 1e-8, -0]);

  it('round-trips F32, F16 and BF16 data with metadata', async () => {
    const file = join(dir, 'round-trip.safetensors');
    await writeSafetensors(
      file,
      {
        'h.f16': { dtype: 'F16', shape: [2, 3], data: values },
        'a.f32': { dtype: 'F32', shape: [6], data: values },
        'b.bf16': { dtype: 'BF16', shape: [3, 2], data: values },
        odd: { dtype: 'F16', shape: [1], data: Float32Array.of(7) },
      },
      { format: 'pt', note: 'tiny' },
    );
    const header = await readSafetensorsHeader(file);
    expect(header.metadata).toEqual({ format: 'pt', note: 'tiny' });
    expect(header.headerLength % 8).toBe(0);
    for (const [name, dtype] of [
      ['a.f32', 'F32'],
      ['h.f16', 'F16'],
      ['b.bf16', 'BF16'],
    ] as const) {
      const tensor = header.tensors.get(name)!;
      expect(tensor.dtype).toBe(dtype);
      expect(decodeFloats(await readTensorBytes(tensor), dtype)).toEqual(roundToDType(values, dtype));
    }
    // Like the reference writer: larger elements first, then by name, packed back to back.
    const order = [...header.tensors.values()].sort((a, b) => a.offset - b.offset).map((t) => t.name);
    expect(order).toEqual(['a.f32', 'b.bf16', 'h.f16', 'odd']);
    expect(header.tensors.get('a.f32')!.offset).toBe(8 + header.headerLength);
    expect((await readdir(dir)).filter((name) => name.includes('.tmp-'))).toEqual([]);
  });

  it('lays the file out byte for byte as the format specifies', async () => {
    const file = join(dir, 'layout.safetensors');
    await writeSafetensors(file, { x: { dtype: 'F32', shape: [1], data: Float32Array.of(1) } });
    const bytes = await readFile(file);
    const json = '{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    const padded = json.padEnd(Math.ceil(json.length / 8) * 8, ' ');
    expect(bytes.readBigUInt64LE(0)).toBe(BigInt(padded.length));
    expect(bytes.subarray(8, 8 + padded.length).toString()).toBe(padded);
    expect(bytes.subarray(8 + padded.length)).toEqual(Buffer.from([0, 0, 0x80, 0x3f]));
  });

  it('writes raw 16-bit values unchanged and replaces an existing file', async () => {
    const file = join(dir, 'raw-bits.safetensors');
    await writeSafetensors(file, { x: { dtype: 'F32', shape: [1], data: Float32Array.of(1) } });
    await writeSafetensors(file, { y: { dtype: 'BF16', shape: [2], data: Uint16Array.of(0x3f80, 0xc000) } });
    const header = await readSafetensorsHeader(file);
    expect([...header.tensors.keys()]).toEqual(['y']);
    expect(decodeFloats(await readTensorBytes(header.tensors.get('y')!), 'BF16')).toEqual(Float32Array.of(1, -2));
  });

  it('refuses data that does not match the shape, and leaves no file behind', async () => {
    const file = join(dir, 'refused.safetensors');
    await expect(writeSafetensors(file, { w: { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) } })).rejects.toThrow(
      /tensor "w": has 3 values but shape \[2,2\] needs 4/,
    );
    await expect(writeSafetensors(file, { w: { dtype: 'F32', shape: [1], data: new Uint16Array(1) } })).rejects.toThrow(
      /raw 16-bit data given for an F32 tensor/,
    );
    expect((await readdir(dir)).filter((name) => name.includes('refused'))).toEqual([]);
  });
});
