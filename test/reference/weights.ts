// The reference reads Hugging Face tensors by their own names with its own small safetensors reader,
// so that it shares no code with the loader it is meant to check.
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface Tensor64 {
  shape: number[];
  data: Float64Array;
}

interface Entry {
  file: string;
  dtype: string;
  shape: number[];
  start: number;
  end: number;
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null)) !== null;
}

async function readEntries(file: string, only?: Set<string>): Promise<Map<string, Entry>> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(8);
    await handle.read(head, 0, 8, 0);
    const length = Number(head.readBigUInt64LE(0));
    const json = Buffer.alloc(length);
    await handle.read(json, 0, length, 8);
    type Info = { dtype: string; shape: number[]; data_offsets: [number, number] };
    const header = JSON.parse(json.toString('utf8')) as Record<string, Info>;
    const entries = new Map<string, Entry>();
    for (const [name, info] of Object.entries(header)) {
      if (name === '__metadata__' || (only && !only.has(name))) continue;
      const [begin, end] = info.data_offsets;
      entries.set(name, { file, dtype: info.dtype, shape: info.shape, start: 8 + length + begin, end: 8 + length + end });
    }
    return entries;
  } finally {
    await handle.close();
  }
}

function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function decode(bytes: Buffer, dtype: string): Float64Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === 'F32') return Float64Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(4 * i, true));
  if (dtype === 'F16') return Float64Array.from({ length: bytes.length / 2 }, (_, i) => halfToNumber(view.getUint16(2 * i, true)));
  if (dtype === 'BF16') {
    // A bfloat16 is the top half of a float32.
    const word = new DataView(new ArrayBuffer(4));
    return Float64Array.from({ length: bytes.length / 2 }, (_, i) => {
      word.setUint32(0, view.getUint16(2 * i, true) << 16);
      return word.getFloat32(0);
    });
  }
  throw new Error(`reference: unsupported dtype ${dtype}`);
}

export class HfWeights {
  private constructor(private readonly entries: Map<string, Entry>) {}

  /** Opens model.safetensors, or the shards listed in model.safetensors.index.json. */
  static async open(dir: string): Promise<HfWeights> {
    const single = join(dir, 'model.safetensors');
    if (await exists(single)) return new HfWeights(await readEntries(single));
    const index = JSON.parse(await readFile(join(dir, 'model.safetensors.index.json'), 'utf8')) as {
      weight_map: Record<string, string>;
    };
    const byFile = new Map<string, Set<string>>();
    for (const [name, file] of Object.entries(index.weight_map)) {
      byFile.set(file, (byFile.get(file) ?? new Set()).add(name));
    }
    const entries = new Map<string, Entry>();
    for (const [file, names] of byFile) {
      for (const [name, entry] of await readEntries(join(dir, file), names)) entries.set(name, entry);
    }
    return new HfWeights(entries);
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  async get(name: string): Promise<Tensor64> {
    const entry = this.entries.get(name);
    if (!entry) throw new Error(`reference: tensor "${name}" not found`);
    const handle = await open(entry.file, 'r');
    try {
      const bytes = Buffer.alloc(entry.end - entry.start);
      await handle.read(bytes, 0, bytes.length, entry.start);
      return { shape: entry.shape, data: decode(bytes, entry.dtype) };
    } finally {
      await handle.close();
    }
  }
}
