// The benchmark model: GPT-2-124M's shape with random weights, written once into a cache folder by
// a child process, so that the measuring process's peak memory holds only what the engine uses;
// and the same weights stored as F16, as real checkpoints usually are.
import { execFile } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { compiledPath } from '../compiled-path.js';
import { SINGLE_FILE } from '../model/checkpoint.js';
import { decodeFloats, isFloatDType } from '../model/dtype.js';
import { readSafetensorsHeader, readTensorBytes, type WritableTensor } from '../model/safetensors.js';
import { writeModelFolder } from '../model/writer.js';

export const GPT2_124M = { arch: 'gpt2', layers: 12, dModel: 768, heads: 12, context: 1024 } as const;

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** Folder of the benchmark model, created on first use (about 500 MB, a few seconds). */
export async function benchModelDir(): Promise<string> {
  const dir = join(tmpdir(), 'fas-bench-gpt2-124m');
  if (!(await exists(join(dir, 'config.json')))) {
    const cli = compiledPath('../../cli/fas.js', import.meta.url);
    const args = ['init', '--arch', 'gpt2', '--layers', '12', '--d-model', '768', '--heads', '12', '--context', '1024', '--tokenizer', 'gpt2', '--out', dir];
    await promisify(execFile)(process.execPath, [cli, ...args]);
  }
  return dir;
}

/** The benchmark model's weights rounded to F16 (about 250 MB), written once from the F32 folder by the calling process. */
export async function benchModelF16Dir(): Promise<string> {
  const dir = join(tmpdir(), 'fas-bench-gpt2-124m-f16');
  if (await exists(join(dir, 'config.json'))) return dir;
  const source = await benchModelDir();
  const header = await readSafetensorsHeader(join(source, SINGLE_FILE));
  const tensors: Record<string, WritableTensor> = {};
  for (const tensor of header.tensors.values()) {
    if (!isFloatDType(tensor.dtype)) throw new Error(`${header.file}: tensor "${tensor.name}" is ${tensor.dtype}, not a float the benchmark can store as F16`);
    tensors[tensor.name] = { dtype: 'F16', shape: tensor.shape, data: decodeFloats(await readTensorBytes(tensor), tensor.dtype) };
  }
  const json = async (name: string) => JSON.parse(await readFile(join(source, name), 'utf8')) as Record<string, unknown>;
  await writeModelFolder(dir, {
    config: await json('config.json'),
    tensors,
    tokenizerJson: await json('tokenizer.json'),
    tokenizerConfig: await json('tokenizer_config.json'),
  });
  return dir;
}
