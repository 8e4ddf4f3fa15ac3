// Safetensors files: an 8-byte little-endian header length, a JSON header describing every tensor,
// then the raw data. We read only the header (models can be many gigabytes; the engine maps the
// data itself) and check it hard, because a model folder is untrusted input.
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fsyncDir, siblingPath, writeAll } from '../storage/atomic.js';
import { DTYPE_BYTES, encodeHalf, isKnownDType, type FloatDType, type SafetensorsDType } from './dtype.js';

/** Same cap as the reference implementation: real headers are a few megabytes at most. */
const MAX_HEADER_BYTES = 100_000_000;

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';

  constructor(
    readonly file: string,
    readonly tensor: string | null,
    readonly problem: string,
  ) {
    super(`${file}${tensor === null ? '' : `: tensor "${tensor}"`}: ${problem}`);
  }
}

export interface SafetensorsTensor {
  name: string;
  /** Absolute path of the file holding the tensor. */
  file: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** Absolute byte offset of the data in the file: 8 + header length + data_offsets[0]. */
  offset: number;
  byteLength: number;
}

export interface SafetensorsHeader {
  file: string;
  headerLength: number;
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

async function readExactly(handle: FileHandle, length: number, position: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  for (let done = 0; done < length;) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) throw new Error(`unexpected end of file at byte ${position + done}`);
    done += bytesRead;
  }
  return buffer;
}

/** Reads and validates the header of a .safetensors file without touching the tensor data. */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  const file = resolve(path);
  const handle = await open(file, 'r');
  const fail = (problem: string): never => {
    throw new SafetensorsError(file, null, problem);
  };
  try {
    const { size } = await handle.stat();
    if (size < 8) fail(`the file is only ${size} bytes, too short for a safetensors header`);
    const declared = (await readExactly(handle, 8, 0)).readBigUInt64LE(0);
    if (declared > BigInt(MAX_HEADER_BYTES)) {
      fail(`the header claims ${declared} bytes, more than the ${MAX_HEADER_BYTES}-byte limit`);
    }
    const headerLength = Number(declared);
    if (8 + headerLength > size) {
      fail(`the header claims ${headerLength} bytes but the file has only ${size - 8} after the length field`);
    }
    const headerBytes = await readExactly(handle, headerLength, 8);
    return parseHeader(file, headerBytes, size - 8 - headerLength);
  } finally {
    await handle.close();
  }
}

function parseHeader(file: string, bytes: Uint8Array, dataBytes: number): SafetensorsHeader {
  const fail = (problem: string, tensor: string | null = null): never => {
    throw new SafetensorsError(file, tensor, problem);
  };
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    fail('the header is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    fail(`the header is not valid JSON (${(error as Error).message})`);
  }
  if (!isPlainObject(json)) fail('the header is not a JSON object');

  const headerLength = bytes.byteLength;
  const tensors = new Map<string, SafetensorsTensor>();
  const ranges: { name: string; begin: number; end: number }[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (!isPlainObject(entry) || !Object.values(entry).every((v) => typeof v === 'string')) {
        fail('"__metadata__" must be an object of strings');
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    if (!isPlainObject(entry)) fail('the entry is not an object', name);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (typeof dtype !== 'string' || !isKnownDType(dtype)) fail(`unknown dtype ${JSON.stringify(dtype)}`, name);
    if (!Array.isArray(shape) || !shape.every(isCount)) {
      fail(`invalid shape ${JSON.stringify(shape)} (expected a list of non-negative integers)`, name);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
      fail(`invalid data_offsets ${JSON.stringify(offsets)} (expected [begin, end])`, name);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataBytes) {
      fail(`data_offsets [${begin}, ${end}] fall outside the ${dataBytes} bytes of data in the file`, name);
    }
    const expected = byteCount(dtype as SafetensorsDType, shape as number[]);
    if (expected !== end - begin) {
      const needs = expected ?? 'an impossible number of';
      fail(`holds ${end - begin} bytes but ${dtype} ${JSON.stringify(shape)} needs ${needs}`, name);
    }
    ranges.push({ name, begin, end });
    tensors.set(name, {
      name,
      file,
      dtype: dtype as SafetensorsDType,
      shape: shape as number[],
      offset: 8 + headerLength + begin,
      byteLength: end - begin,
    });
  }

  ranges.sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < ranges.length; i++) {
    const previous = ranges[i - 1];
    const current = ranges[i];
    if (current.begin < previous.end) fail(`its data overlaps tensor "${previous.name}"`, current.name);
  }
  return { file, headerLength, tensors, metadata };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Bytes a tensor needs, or null if that does not fit in a safe integer. */
function byteCount(dtype: SafetensorsDType, shape: number[]): number | null {
  let bytes = DTYPE_BYTES[dtype];
  for (const dim of shape) {
    bytes *= dim;
    if (!Number.isSafeInteger(bytes)) return null;
  }
  return bytes;
}

/** Reads one tensor's raw bytes. */
export async function readTensorBytes(tensor: { file: string; offset: number; byteLength: number }): Promise<Buffer> {
  const handle = await open(tensor.file, 'r');
  try {
    return await readExactly(handle, tensor.byteLength, tensor.offset);
  } finally {
    await handle.close();
  }
}

// ---- Writing --------------------------------------------------------------------------------

/** Float32Array holds values (converted to `dtype`); Uint16Array holds raw F16/BF16 bits. */
export interface WritableTensor {
  dtype: FloatDType;
  shape: number[];
  data: Float32Array | Uint16Array;
}

/**
 * Writes a .safetensors file the way the reference implementation lays it out (tensors sorted by
 * alignment then name, header padded with spaces to 8 bytes), atomically: a temporary file in the
 * same folder is flushed, then renamed over `path`.
 */
export async function writeSafetensors(path: string, tensors: Record<string, WritableTensor>, metadata?: Record<string, string>): Promise<void> {
  const target = resolve(path);
  const entries = Object.entries(tensors).map(([name, tensor]) => [name, tensorBytes(target, name, tensor)] as const);
  entries.sort(([nameA, a], [nameB, b]) => DTYPE_BYTES[b.dtype] - DTYPE_BYTES[a.dtype] || (nameA < nameB ? -1 : nameA > nameB ? 1 : 0));

  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let position = 0;
  for (const [name, { dtype, shape, bytes }] of entries) {
    header[name] = { dtype, shape, data_offsets: [position, position + bytes.byteLength] };
    position += bytes.byteLength;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Buffer.alloc(Math.ceil(json.byteLength / 8) * 8, ' ');
  json.copy(padded);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(padded.byteLength));

  const temp = siblingPath(target, 'tmp');
  const handle = await open(temp, 'wx');
  try {
    await writeAll(handle, length);
    await writeAll(handle, padded);
    for (const [, { bytes }] of entries) await writeAll(handle, bytes);
    await handle.sync();
    await handle.close();
    await rename(temp, target);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw error;
  }
  await fsyncDir(dirname(target));
}

function tensorBytes(file: string, name: string, tensor: WritableTensor) {
  const { dtype, shape, data } = tensor;
  const fail = (problem: string): never => {
    throw new SafetensorsError(file, name, problem);
  };
  if (name === '__metadata__') fail('"__metadata__" is reserved for metadata');
  if (!shape.every(isCount)) fail(`invalid shape ${JSON.stringify(shape)}`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) fail(`has ${data.length} values but shape ${JSON.stringify(shape)} needs ${count}`);
  let raw: Float32Array | Uint16Array = data;
  if (data instanceof Uint16Array) {
    if (dtype === 'F32') fail('raw 16-bit data given for an F32 tensor; pass a Float32Array');
  } else if (dtype !== 'F32') {
    raw = encodeHalf(data, dtype);
  }
  return { dtype, shape, bytes: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength) };
}
