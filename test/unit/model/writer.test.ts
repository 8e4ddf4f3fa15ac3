import { readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byteTokenizerConfig, byteTokenizerJson } from '../../../electron/core/model/gpt2-tokenizer.js';
import { openModelFolder } from '../../../electron/core/model/folder.js';
import { OWNER_MARK } from '../../../electron/core/storage/owned-folder.js';
import { writeModelFolder, type ModelFolderContents } from '../../../electron/core/model/writer.js';
import { tempDir, tinyModelContents } from '../../helpers/tiny-models.js';

let root: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ path: root, cleanup } = await tempDir()));
afterAll(() => cleanup());

function contents(seed: number, extraFiles?: ModelFolderContents['extraFiles']): ModelFolderContents {
  const { config, tensors } = tinyModelContents('opt', { seed });
  return {
    config,
    tensors: Object.fromEntries(Object.entries(tensors).map(([n, t]) => [n, { dtype: t.dtype, shape: t.shape, data: t.values }])),
    tokenizerJson: byteTokenizerJson(),
    tokenizerConfig: byteTokenizerConfig(32),
    extraFiles,
  };
}

/** Names in `dir` that the writer uses for temporary or replaced folders. */
async function leftovers(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => /\.(tmp|old)-/.test(name));
}

describe('writeModelFolder', () => {
  it('writes a folder the loader opens, with extra files', async () => {
    const dir = join(root, 'nested', 'model');
    const extra = { 'generation_config.json': '{"eos_token_id": 256}', 'state.bin': Uint8Array.of(1, 2, 3) };
    await writeModelFolder(dir, contents(1, extra));
    expect((await readdir(dir)).sort()).toEqual([
      OWNER_MARK,
      'config.json',
      'generation_config.json',
      'model.safetensors',
      'state.bin',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    expect(await readFile(join(dir, 'state.bin'))).toEqual(Buffer.from([1, 2, 3]));
    expect((await openModelFolder(dir)).spec.family).toBe('opt');
    expect(await leftovers(join(root, 'nested'))).toEqual([]);
  });

  it('replaces an existing folder completely and cleans up', async () => {
    const dir = join(root, 'replace');
    await writeModelFolder(dir, contents(1, { 'stale.txt': 'old' }));
    const before = await readFile(join(dir, 'model.safetensors'));
    await writeModelFolder(dir, contents(2));
    expect(await readdir(dir)).not.toContain('stale.txt');
    expect(await readFile(join(dir, 'model.safetensors'))).not.toEqual(before);
    expect(await leftovers(root)).toEqual([]);
  });

  it('leaves the existing folder untouched when writing fails', async () => {
    const dir = join(root, 'keep');
    await writeModelFolder(dir, contents(1));
    const before = await readFile(join(dir, 'model.safetensors'));
    const broken = contents(2);
    broken.tensors['bad'] = { dtype: 'F32', shape: [3], data: new Float32Array(2) };
    await expect(writeModelFolder(dir, broken)).rejects.toThrow(/tensor "bad": has 2 values but shape \[3\] needs 3/);
    expect(await readFile(join(dir, 'model.safetensors'))).toEqual(before);
    expect(await leftovers(root)).toEqual([]);
  });

  it('refuses unsafe extra file names and a target that is a file', async () => {
    for (const name of ['../escape.txt', 'sub/file.txt', 'config.json', 'model-00001-of-00002.safetensors']) {
      await expect(writeModelFolder(join(root, 'unsafe'), contents(1, { [name]: 'x' }))).rejects.toThrow(/plain file name/);
    }
    const file = join(root, 'is-a-file');
    await writeFile(file, 'x');
    await expect(writeModelFolder(file, contents(1))).rejects.toThrow(/a file with that name exists/);
  });

  it('writes shards with an index when asked to', async () => {
    const dir = join(root, 'shards');
    await mkdir(dir);
    await writeModelFolder(dir, { ...contents(1), maxShardBytes: 10_000 });
    const names = await readdir(dir);
    expect(names).toContain('model.safetensors.index.json');
    expect(names).not.toContain('model.safetensors');
    expect((await openModelFolder(dir)).spec.numLayers).toBe(2);
  });
});
