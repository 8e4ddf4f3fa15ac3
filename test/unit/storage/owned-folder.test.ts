// The rule for every folder the app writes (storage/owned-folder): it replaces only folders it
// created (marked), never a folder that holds or lies inside a job's input, and it recovers the
// swaps a crash interrupted. Plus the model writer under that rule, and a full disk during a save.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeModelFolder } from '../../../electron/core/model/writer.js';
import { simulateDiskSpaceForTesting } from '../../../electron/core/storage/atomic.js';
import { claimOutputFolder, OWNER_MARK, recoverInterruptedSwaps } from '../../../electron/core/storage/owned-folder.js';
import { tempDir, tinyModelContents } from '../../helpers/tiny-models.js';
import { byteTokenizerConfig, byteTokenizerJson } from '../../../electron/core/model/gpt2-tokenizer.js';

let root: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ path: root, cleanup } = await tempDir());
});
afterAll(() => cleanup());
afterEach(() => simulateDiskSpaceForTesting(null));

const contents = (seed: number) => {
  const { config, tensors } = tinyModelContents('gpt2', { seed });
  return {
    config,
    tensors: Object.fromEntries(Object.entries(tensors).map(([name, t]) => [name, { dtype: t.dtype, shape: t.shape, data: t.values }])),
    tokenizerJson: byteTokenizerJson(),
    tokenizerConfig: byteTokenizerConfig(32),
  };
};

/** A folder of the user's: a model and a text, as in `./models/gpt2` and `./models/corpus.txt`. */
async function usersFolder(name: string): Promise<{ dir: string; model: string; data: string }> {
  const dir = join(root, name);
  const model = join(dir, 'gpt2');
  await writeModelFolder(model, contents(1));
  const data = join(dir, 'corpus.txt');
  await writeFile(data, 'text');
  return { dir, model, data };
}

/** Claims the folder as a job would, and releases it at once (the job's end). */
const claim = async (outDir: string, inputs: string[], overwrite = true, resume: string | false = false) =>
  (await claimOutputFolder(outDir, { inputs, overwrite, resume }))();

describe('claimOutputFolder', () => {
  it('refuses an output folder that holds the input model or data, even when overwriting', async () => {
    const { dir, model, data } = await usersFolder('models');
    await expect(claim(dir, [model, data])).rejects.toThrow(/holds the job's input .*gpt2.*Choose a new folder outside the model and the data/);
    await expect(claim(model, [model, data])).rejects.toThrow(/is the job's input/);
    await expect(claim(join(model, 'out'), [model, data])).rejects.toThrow(/is inside the job's input/);
    expect((await readdir(dir)).sort()).toEqual(['corpus.txt', 'gpt2']);
  });

  it('refuses to overwrite a folder it did not create, and leaves it as it was', async () => {
    const docs = join(root, 'documents');
    await mkdir(docs);
    await writeFile(join(docs, 'letter.txt'), 'dear');
    const { model, data } = await usersFolder('elsewhere');
    await expect(claim(docs, [model, data])).rejects.toThrow(/was not created by this app, so it is never replaced or deleted/);
    await expect(claim(docs, [model, data], false)).rejects.toThrow(/not empty and was not created by this app/);
    // Resuming where there is no checkpoint of this app must not mark the folder as the app's.
    await expect(claim(docs, [model, data], false, join(docs, 'checkpoint', 'trainer_state.json'))).rejects.toThrow(/no checkpoint to resume/);
    expect(await readdir(docs)).toEqual(['letter.txt']);
    // And the model writer, whoever calls it, refuses to replace it too.
    await expect(writeModelFolder(docs, contents(2))).rejects.toThrow(/was not created by this app/);
    expect(await readdir(docs)).toEqual(['letter.txt']);
  });

  it('creates and marks a new folder; overwrites only a marked one, and only when asked', async () => {
    const { model, data } = await usersFolder('inputs');
    const out = join(root, 'new-out');
    await claim(out, [model, data], false);
    expect(await readdir(out)).toEqual([OWNER_MARK]);
    await writeModelFolder(out, contents(2));
    await expect(claim(out, [model, data], false)).rejects.toThrow(/already holds an earlier run's output/);
    await claim(out, [model, data], true);
    await writeModelFolder(out, contents(3));
    expect(await readdir(out)).toContain('model.safetensors');
  });
});

describe('recoverInterruptedSwaps', () => {
  it('puts back a folder a crash left moved aside, and removes only the temporaries the app made', async () => {
    const parent = join(root, 'swaps');
    const out = join(parent, 'out');
    await writeModelFolder(out, contents(1));
    const weights = await readFile(join(out, 'model.safetensors'));
    // A crash between the two renames of a swap: the old folder moved aside, the new one still a temporary.
    const aside = join(parent, '.out.old-0a1b2c3d');
    const { rename } = await import('node:fs/promises');
    await rename(out, aside);
    const temp = join(parent, '.out.tmp-1a2b3c4d');
    await mkdir(temp);
    await writeFile(join(temp, OWNER_MARK), '');
    // Someone else's folder with a look-alike name is not the app's.
    const foreign = join(parent, '.out.tmp-2a2b3c4d');
    await mkdir(foreign);
    const notes = await recoverInterruptedSwaps(out);
    expect(notes.join(' ')).toMatch(/moved .*out aside; it was put back.*Removed .*\.out\.tmp-1a2b3c4d/);
    expect(await readFile(join(out, 'model.safetensors'))).toEqual(weights);
    expect(existsSync(temp)).toBe(false);
    expect(existsSync(foreign)).toBe(true);

    // A half-written checkpoint inside the output folder: the temporary folder and a torn file go.
    await mkdir(join(out, '.checkpoint.tmp-3a2b3c4d'));
    await writeFile(join(out, '.checkpoint.tmp-3a2b3c4d', OWNER_MARK), '');
    await writeFile(join(out, '.config.json.tmp-4a2b3c4d'), '{"trunc');
    expect(await recoverInterruptedSwaps(out)).toHaveLength(2);
    expect((await readdir(out)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });
});

describe('a full disk during a save', () => {
  it('fails with a clear message and keeps the previous folder whole', async () => {
    const out = join(root, 'full-disk');
    await writeModelFolder(out, contents(1));
    const before = await readFile(join(out, 'model.safetensors'));
    simulateDiskSpaceForTesting(2000);
    await expect(writeModelFolder(out, contents(2))).rejects.toThrow(/The disk is full, so the save could not finish. What was saved before is kept/);
    simulateDiskSpaceForTesting(null);
    expect(await readFile(join(out, 'model.safetensors'))).toEqual(before);
    expect((await readdir(root)).filter((n) => n.startsWith('.full-disk.'))).toEqual([]);
  });
});
