import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openModelFolder } from '../../../electron/core/model/folder.js';
import { byteTokenizerConfig, byteTokenizerJson } from '../../../electron/core/model/gpt2-tokenizer.js';
import { initConfig, initTensors, type InitOptions } from '../../../electron/core/model/init.js';
import { writeModelFolder } from '../../../electron/core/model/writer.js';
import { referenceForward } from '../../reference/forward.js';
import { tempDir } from '../../helpers/tiny-models.js';

const base: Omit<InitOptions, 'arch'> = { layers: 2, dModel: 16, heads: 4, context: 16, vocabSize: 257, bosTokenId: 256, eosTokenId: 256 };

describe('fresh model initialisation', async () => {
  const temp = await tempDir();
  afterAll(() => temp.cleanup());

  for (const arch of ['gpt2', 'opt', 'llama'] as const) {
    it(`writes a loadable ${arch} folder with sensible random weights`, async () => {
      const config = initConfig({ ...base, arch, ...(arch === 'llama' ? { kvHeads: 2 } : {}) });
      const tensors = initTensors(config, 7);
      const dir = join(temp.path, arch);
      await writeModelFolder(dir, { config, tensors, tokenizerJson: byteTokenizerJson(), tokenizerConfig: byteTokenizerConfig(16) });
      const folder = await openModelFolder(dir);
      expect(folder.summary.layers).toBe(2);
      expect(folder.spec.tiedHead).toBe(true);
      // A random model predicts close to uniformly: logits small and finite.
      const [logits] = await referenceForward(dir, [1, 2, 3]);
      expect(logits!.every((v) => Number.isFinite(v) && Math.abs(v) < 2)).toBe(true);
      expect(initTensors(config, 7)).toEqual(tensors);
      expect(initTensors(config, 8)).not.toEqual(tensors);
    });
  }

  it('uses N(0, 0.02) weights, unit norm scales and zero biases', () => {
    const t = initTensors(initConfig({ ...base, arch: 'gpt2', dModel: 64, heads: 4 }), 1);
    const w = t['h.0.mlp.c_fc.weight']!.data as Float32Array;
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    expect(std).toBeGreaterThan(0.018);
    expect(std).toBeLessThan(0.022);
    expect([...(t['h.0.ln_1.weight']!.data as Float32Array)].every((v) => v === 1)).toBe(true);
    expect([...(t['h.0.attn.c_attn.bias']!.data as Float32Array)].every((v) => v === 0)).toBe(true);
  });

  it('explains sizes that do not fit', () => {
    expect(() => initConfig({ ...base, arch: 'gpt2', dModel: 18 })).toThrow('--d-model (18) must be divisible by --heads (4)');
    expect(() => initConfig({ ...base, arch: 'llama', kvHeads: 3 })).toThrow('must be divisible by the key/value heads (3)');
    expect(() => initConfig({ ...base, arch: 'opt', layers: 0 })).toThrow('--layers must be a positive whole number');
  });
});
