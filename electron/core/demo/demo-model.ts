// The bundled demo model: where it lives in the app, and how the recipe stores it (F16, half the
// size of the F32 weights it was trained in; the engine converts them back to F32 on load).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCheckpoint } from '../model/checkpoint.js';
import { decodeFloats, isFloatDType } from '../model/dtype.js';
import { readTensorBytes, type WritableTensor } from '../model/safetensors.js';
import { writeModelFolder } from '../model/writer.js';

export const DEMO_MODEL_NAME = 'Demo GPT-2 (State of the Union, 4.3 M)';

/** build/demo/<part> (the bundled model or tasks), from the sources (electron/core/demo) or the build (dist/electron/core/demo). */
export function bundledDemoDir(part: 'model' | 'tasks'): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const candidates = ['../../..', '../../../..'].map((up) => join(here, up, 'build', 'demo', part));
  return candidates.find((dir) => existsSync(dir)) ?? candidates[0]!;
}

export function demoModelDir(): string {
  return bundledDemoDir('model');
}

/** Copies a model folder with every floating-point tensor stored as F16. */
export async function toHalfPrecisionFolder(source: string, target: string, modelCard?: string): Promise<void> {
  const checkpoint = await readCheckpoint(source);
  const tensors: Record<string, WritableTensor> = {};
  for (const [name, t] of checkpoint.tensors) {
    if (!isFloatDType(t.dtype)) throw new Error(`${name} is ${t.dtype}, not a float tensor.`);
    tensors[name] = { dtype: 'F16', shape: t.shape, data: decodeFloats(await readTensorBytes(t), t.dtype) };
  }
  const json = async (file: string) => JSON.parse(await readFile(join(source, file), 'utf8')) as Record<string, unknown>;
  await writeModelFolder(target, {
    config: { ...(await json('config.json')), torch_dtype: 'float16' },
    tensors,
    tokenizerJson: await json('tokenizer.json'),
    tokenizerConfig: await json('tokenizer_config.json'),
    extraFiles: modelCard ? { 'README.md': modelCard } : undefined,
  });
}

/** The models every library starts with: the demo model, when this install has it. */
export function builtInModels(): Array<{ name: string; path: string }> {
  const dir = demoModelDir();
  return existsSync(join(dir, 'config.json')) ? [{ name: DEMO_MODEL_NAME, path: dir }] : [];
}
