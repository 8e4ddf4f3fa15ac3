// The fully spike-driven scope (fas-method.md section 9) through the addon: tiny GPT-2, OPT and
// LLaMA folders with a format 2, scope "all" spiking folder, loaded by electron/core/inference;
// snn at T = L against qcfs, sessions and generation, the per-site statistics, and refusals.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../electron/core/inference/loaded-model.js';
import { writeSafetensors } from '../../electron/core/model/safetensors.js';
import { SPIKING_WEIGHTS_FILE, writeSpikingConfig } from '../../electron/core/spiking/spiking-config.js';
import { layerSiteWidths, spikingTensors } from '../../electron/core/spiking/spiking-weights.js';
import { writeAllScopeModel } from '../helpers/spiking-all.js';
import { tempDir, TINY_VOCAB, writeTinyModel } from '../helpers/tiny-models.js';

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
const ids = Int32Array.from([72, 101, 108, 108, 111, 32, 119, 111], (v) => v % TINY_VOCAB);

describe.each(['gpt2', 'opt', 'llama-gqa-tied'] as const)('scope all on a tiny %s folder', (variant) => {
  it('runs snn at T = L exactly as qcfs, generates, and reports every site', async () => {
    const temp = await tempDir();
    const dir = temp.path;
    await writeAllScopeModel(dir, variant, 4);
    const model = await loadModel(dir);
    try {
      expect(model.spiking).toMatchObject({ scope: 'all', encoding: 'layer', version: 2 });
      const qcfs = await model.engine.forwardWithStats(ids, 1, ids.length, { mode: 'qcfs' });
      const snn = await model.engine.forwardWithStats(ids, 1, ids.length, { mode: 'snn', timesteps: 8 });
      const ann = await model.engine.forward(ids, 1, ids.length);
      expect(maxDiff(snn.logits, qcfs.logits)).toBeLessThan(1e-3);
      expect(maxDiff(ann, qcfs.logits)).toBeGreaterThan(1e-3);
      expect(snn.stats).toMatchObject({ mode: 'snn', timesteps: 8, scope: 'all' });
      expect(snn.stats.sites.map((s) => s.site)).toEqual(['attn_in', 'q', 'v', 'attn_out', 'ffn_in', 'qcfs', 'head_in']);
      for (const site of snn.stats.sites) {
        expect(site.firingRate).toBeGreaterThan(0);
        expect(site.firingRate).toBeLessThanOrEqual(1);
        expect(site.acsPerToken).toBeGreaterThan(0);
      }
      const acs = snn.stats.sites.reduce((a, s) => a + s.acsPerToken, 0);
      expect(snn.stats.acsPerToken).toBeCloseTo(acs, 3);
      expect(snn.stats.counted).toMatch(/Scope all/);
      expect(qcfs.stats.sites).toEqual([]);

      // The default T is the folder's; a session at T = 4 generates the argmax of the forward.
      const session = model.engine.createSession({ mode: 'snn' });
      const streamed: number[] = [];
      const result = await session.generate({ promptIds: ids, maxTokens: 3 }, (id) => streamed.push(id));
      expect(streamed).toHaveLength(3);
      const whole = await model.engine.forward(ids, 1, ids.length, { mode: 'snn', lastOnly: true });
      expect(streamed[0]).toBe(whole.indexOf(Math.max(...whole)));
      expect(result.stats).toMatchObject({ timesteps: 4, scope: 'all' });
    } finally {
      model.engine.dispose();
      await temp.cleanup();
    }
  });
});

describe('scope all thresholds from activation statistics', () => {
  it('gives every site a positive threshold per channel that a scope all folder takes', async () => {
    const temp = await tempDir();
    await writeTinyModel(temp.path, 'llama-gqa-tied');
    const ann = await loadModel(temp.path);
    const { spec } = ann.folder;
    const t = await ann.engine.siteThresholds(ids, 1, ids.length, 0.999);
    ann.engine.dispose();
    expect(t.sites).toHaveLength(spec.numLayers);
    const widths = { ...layerSiteWidths(spec), qcfs: spec.ffnSize };
    for (const layer of t.sites) {
      for (const [site, width] of Object.entries(widths)) {
        const values = layer[site as keyof typeof widths];
        expect(values).toHaveLength(width);
        expect(values.every((v) => v >= 1e-3 && Number.isFinite(v))).toBe(true);
      }
    }
    expect(t.headIn).toHaveLength(spec.hiddenSize);
    // The largest |x| of 8 values (the 99.9th percentile): nothing clips, so qcfs with many levels is the ANN.
    await writeSpikingConfig(temp.path, { L: 8, T: 8, neuron: 'if-soft-reset', signed: true, site: 'ffn_act', calibration: 'none', scope: 'all' });
    await writeSafetensors(join(temp.path, SPIKING_WEIGHTS_FILE), spikingTensors({ layers: t.sites, headIn: t.headIn }));
    const converted = await loadModel(temp.path);
    const snn = await converted.engine.forwardWithStats(ids, 1, ids.length, { mode: 'snn', timesteps: 1024 });
    const plain = await converted.engine.forward(ids, 1, ids.length);
    expect(maxDiff(snn.logits, plain)).toBeLessThan(0.05);
    converted.engine.dispose();
    await expect(converted.engine.forward(ids, 1, ids.length)).rejects.toThrow(/disposed/);
    await temp.cleanup();
  });
});

describe('scope all refusals', () => {
  it('refuses thresholds that do not fit the model', async () => {
    const temp = await tempDir();
    await writeAllScopeModel(temp.path, 'gpt2', 4);
    await writeSafetensors(join(temp.path, SPIKING_WEIGHTS_FILE), { 'head_in.lambda': { dtype: 'F32', shape: [1], data: Float32Array.of(1) } });
    await expect(loadModel(temp.path)).rejects.toThrow(/"layers\.0\.attn_in\.lambda" is missing/);
    await temp.cleanup();
  });
});
