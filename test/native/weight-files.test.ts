// A weight file that changes under a loaded model: the next native call is refused with a message
// (without the guard it reads the truncated mapping and the process dies of SIGBUS).
import { copyFile, rename, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../electron/core/inference/loaded-model.js';
import { WeightFileChangedError } from '../../electron/core/inference/weight-files.js';
import { tempDir, writeTinyModel } from '../helpers/tiny-models.js';

describe('weight files changed under a loaded model', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ path: root, cleanup } = await tempDir()));
  afterAll(() => cleanup());

  it('refuses forward and generation after the file is truncated, saying to reload', async () => {
    const dir = join(root, 'truncated');
    await writeTinyModel(dir, 'gpt2', { dtype: 'F32' });
    const model = await loadModel(dir);
    try {
      const ids = Int32Array.of(1, 2, 3);
      expect((await model.engine.forward(ids, 1, 3)).length).toBe(3 * 257);
      const session = model.engine.createSession();
      const file = join(dir, 'model.safetensors');
      await truncate(file, 64);
      await expect(model.engine.forward(ids, 1, 3)).rejects.toThrow(WeightFileChangedError);
      await expect(model.engine.forward(ids, 1, 3)).rejects.toThrow(
        /model\.safetensors changed size \([\d,]+ to 64 bytes\) after the model was loaded\. Reload the model/,
      );
      await expect(session.eval(ids)).rejects.toThrow(WeightFileChangedError);
      await expect(model.engine.createSession().generate({ promptIds: [1], maxTokens: 2 }, () => {})).rejects.toThrow(WeightFileChangedError);
    } finally {
      model.engine.dispose();
    }
  });

  it('notices a file replaced by another of the same size', async () => {
    const dir = join(root, 'replaced');
    await writeTinyModel(dir, 'gpt2', { dtype: 'F32' });
    const model = await loadModel(dir);
    try {
      const file = join(dir, 'model.safetensors');
      await copyFile(file, `${file}.new`);
      await rename(`${file}.new`, file);
      await expect(model.engine.forwardWithStats(Int32Array.of(1), 1, 1)).rejects.toThrow(
        /model\.safetensors was replaced or rewritten after the model was loaded/,
      );
    } finally {
      model.engine.dispose();
    }
  });
});
