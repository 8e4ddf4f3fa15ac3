import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INDEX_FILE, readCheckpoint } from '../../../electron/core/model/checkpoint.js';
import { ModelFolderError } from '../../../electron/core/model/errors.js';
import { writeSafetensors } from '../../../electron/core/model/safetensors.js';
import { tempDir, writeTinyModel } from '../../helpers/tiny-models.js';

let root: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ path: root, cleanup } = await tempDir()));
afterAll(() => cleanup());

describe('sharded checkpoints', () => {
  it('reads every shard listed by model.safetensors.index.json', async () => {
    const dir = join(root, 'sharded');
    const model = await writeTinyModel(dir, 'llama', { maxShardBytes: 8192 });
    const files = (await readdir(dir)).filter((name) => name.endsWith('.safetensors')).sort();
    expect(files.length).toBeGreaterThan(1);
    expect(files[0]).toBe(`model-00001-of-${String(files.length).padStart(5, '0')}.safetensors`);

    const index = JSON.parse(await readFile(join(dir, INDEX_FILE), 'utf8'));
    const bytes = Object.values(model.tensors).reduce((sum, t) => sum + 4 * t.values.length, 0);
    expect(index.metadata.total_size).toBe(bytes);

    const checkpoint = await readCheckpoint(dir);
    expect(checkpoint.source).toBe(join(dir, INDEX_FILE));
    expect(checkpoint.files).toEqual(files.map((name) => join(dir, name)));
    expect([...checkpoint.tensors.keys()].sort()).toEqual(Object.keys(model.tensors).sort());
    for (const [name, file] of Object.entries(index.weight_map as Record<string, string>)) {
      expect(checkpoint.tensors.get(name)!.file).toBe(join(dir, file));
    }
  });

  it('prefers model.safetensors when both are present, as transformers does', async () => {
    const dir = join(root, 'both');
    await writeTinyModel(dir, 'gpt2', { maxShardBytes: 4096 });
    await writeSafetensors(join(dir, 'model.safetensors'), { x: { dtype: 'F32', shape: [1], data: Float32Array.of(1) } });
    const checkpoint = await readCheckpoint(dir);
    expect([...checkpoint.tensors.keys()]).toEqual(['x']);
  });
});

describe('invalid index files', () => {
  async function indexError(name: string, index: string, shards: Record<string, string[]> = {}): Promise<string> {
    const dir = join(root, name);
    await writeTinyModel(dir, 'gpt2', { maxShardBytes: 4096 });
    await writeFile(join(dir, INDEX_FILE), index);
    for (const [file, tensors] of Object.entries(shards)) {
      await writeSafetensors(join(dir, file), Object.fromEntries(tensors.map((t) => [t, { dtype: 'F32' as const, shape: [1], data: Float32Array.of(0) }])));
    }
    const error = await readCheckpoint(dir).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelFolderError);
    expect((error as ModelFolderError).reason).toBe('invalid-index');
    expect((error as Error).message).toContain(join(dir, INDEX_FILE));
    return (error as Error).message;
  }

  it('is not JSON', async () => {
    expect(await indexError('not-json', '{"weight_map": ')).toMatch(/not valid JSON/);
  });

  it('has no weight_map', async () => {
    expect(await indexError('no-map', '{"metadata": {}}')).toMatch(/"weight_map" is missing/);
    expect(await indexError('empty-map', '{"weight_map": {}}')).toMatch(/lists no tensors/);
  });

  it.each([['../outside.safetensors'], ['/etc/passwd'], ['sub/dir.safetensors'], ['model.bin']])(
    'points outside the folder or at another format (%s)',
    async (shard) => {
      const message = await indexError(`escape-${shard.replace(/\W/g, '_')}`, JSON.stringify({ weight_map: { w: shard } }));
      expect(message).toMatch(/not a \.safetensors file name in this folder/);
    },
  );

  it('lists a shard that is missing', async () => {
    const index = JSON.stringify({ weight_map: { w: 'model-00002-of-00002.safetensors' } });
    expect(await indexError('missing-shard', index)).toMatch(/shard model-00002-of-00002\.safetensors is listed but missing/);
  });

  it('lists a tensor its shard does not contain', async () => {
    const index = JSON.stringify({ weight_map: { a: 'extra.safetensors', b: 'extra.safetensors' } });
    const message = await indexError('missing-tensor', index, { 'extra.safetensors': ['a'] });
    expect(message).toMatch(/tensor "b" is listed in extra\.safetensors but that file does not contain it/);
  });
});
