// The benchmark model: GPT-2-124M's shape with random weights, written once into a cache folder by
// a child process, so that the measuring process's peak memory holds only what the engine uses.
import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { compiledPath } from '../compiled-path.js';

export const GPT2_124M = { arch: 'gpt2', layers: 12, dModel: 768, heads: 12, context: 1024 } as const;

/** Folder of the benchmark model, created on first use (about 500 MB, a few seconds). */
export async function benchModelDir(): Promise<string> {
  const dir = join(tmpdir(), 'fas-bench-gpt2-124m');
  const ready = await access(join(dir, 'config.json')).then(
    () => true,
    () => false,
  );
  if (!ready) {
    const cli = compiledPath('../../cli/fas.js', import.meta.url);
    const args = ['init', '--arch', 'gpt2', '--layers', '12', '--d-model', '768', '--heads', '12', '--context', '1024', '--tokenizer', 'gpt2', '--out', dir];
    await promisify(execFile)(process.execPath, [cli, ...args]);
  }
  return dir;
}
