// The memory estimate's per-token formulas (electron/core/estimate/memory.ts) against the engine's
// own size tables, which its forward and training graphs allocate from (the addon's bufferSizes),
// exactly: every tiny family opened by the model loader, and the real shapes of GPT-2 small (pre-norm,
// tied head), OPT-350m (post-norm, project_in/out) and LLaMA models with grouped-query attention
// (gated FFN), with and without the QCFS site, and as the calibrator's spiking student.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backwardPerToken,
  captureKeyValuesPerToken,
  capturedPerToken,
  inferencePerToken,
  keptPerToken,
  spikeBytesPerToken,
  spikingBackwardPerToken,
  spikingKeptPerToken,
} from '../../electron/core/estimate/memory.js';
import { modelShape } from '../../electron/core/estimate/model-shape.js';
import { openModelFolder } from '../../electron/core/model/folder.js';
import { loadNative, type NativeModelSpec } from '../../native/index.js';
import { tempDir, TINY_VARIANTS, writeTinyModel, type TinyVariant } from '../helpers/tiny-models.js';

type Dims = Pick<NativeModelSpec, 'vocabSize' | 'hiddenSize' | 'numLayers' | 'numHeads' | 'numKvHeads' | 'headDim' | 'ffnSize' | 'wordEmbedDim'>;

/** Real models' sizes (their config.json), on the tiny model of the same family and layout. */
const REAL: { name: string; variant: TinyVariant; dims: Dims }[] = [
  {
    name: 'GPT-2 small',
    variant: 'gpt2',
    dims: { vocabSize: 50257, hiddenSize: 768, numLayers: 12, numHeads: 12, numKvHeads: 12, headDim: 64, ffnSize: 3072, wordEmbedDim: 768 },
  },
  {
    name: 'OPT-350m',
    variant: 'opt-350m',
    dims: { vocabSize: 50272, hiddenSize: 1024, numLayers: 24, numHeads: 16, numKvHeads: 16, headDim: 64, ffnSize: 4096, wordEmbedDim: 512 },
  },
  {
    name: 'TinyLlama-1.1B',
    variant: 'llama',
    dims: { vocabSize: 32000, hiddenSize: 2048, numLayers: 22, numHeads: 32, numKvHeads: 4, headDim: 64, ffnSize: 5632, wordEmbedDim: 2048 },
  },
  {
    name: 'Llama-3.2-1B',
    variant: 'llama-gqa-tied',
    dims: { vocabSize: 128256, hiddenSize: 2048, numLayers: 16, numHeads: 32, numKvHeads: 8, headDim: 64, ffnSize: 8192, wordEmbedDim: 2048 },
  },
];

/** The spec with real sizes: every layer's tensors named as layer 0's (bufferSizes reads names, never files). */
function realShaped(tiny: NativeModelSpec, dims: Dims): NativeModelSpec {
  const tensors = Object.fromEntries(Object.entries(tiny.tensors).filter(([name]) => !name.startsWith('layers.')));
  for (const [name, ref] of Object.entries(tiny.tensors)) {
    if (!name.startsWith('layers.0.')) continue;
    for (let l = 0; l < dims.numLayers; l++) tensors[name.replace('layers.0.', `layers.${l}.`)] = ref;
  }
  return { ...tiny, ...dims, tensors };
}

/** Every per-token formula against the engine's table, the site on and off, and the spiking student and calibration captures at T = 1 and 4. */
function expectSameSizes(spec: NativeModelSpec): void {
  const native = loadNative();
  const shape = modelShape(spec, 0);
  for (const qcfsSite of [false, true]) {
    expect(native.bufferSizes(spec, { qcfsSite }), `qcfsSite ${qcfsSite}`).toEqual({
      inferencePerToken: inferencePerToken(shape),
      spikeBytesPerToken: 0,
      keptPerToken: keptPerToken(shape, qcfsSite),
      backwardPerToken: backwardPerToken(shape, qcfsSite),
    });
  }
  for (const timesteps of [1, 4]) {
    expect(native.bufferSizes(spec, { qcfsSite: true, timesteps }), `T = ${timesteps}`).toEqual({
      inferencePerToken: timesteps * inferencePerToken(shape),
      spikeBytesPerToken: timesteps * spikeBytesPerToken(shape),
      keptPerToken: spikingKeptPerToken(shape, timesteps),
      backwardPerToken: spikingBackwardPerToken(shape, timesteps),
      capturedPerToken: capturedPerToken(shape, timesteps),
      keyValuesPerToken: captureKeyValuesPerToken(shape, timesteps),
    });
  }
}

describe("the memory estimate against the engine's size tables", () => {
  const tiny = new Map<TinyVariant, NativeModelSpec>();
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    let root: string;
    ({ path: root, cleanup } = await tempDir());
    for (const variant of TINY_VARIANTS) {
      await writeTinyModel(join(root, variant), variant);
      tiny.set(variant, (await openModelFolder(join(root, variant))).spec);
    }
  });
  afterAll(() => cleanup());

  it.each(TINY_VARIANTS)('tiny %s', (variant) => {
    expectSameSizes(tiny.get(variant)!);
  });

  it.each(REAL)('$name', ({ variant, dims }) => {
    const spec = realShaped(tiny.get(variant)!, dims);
    expect(modelShape(spec, 0)).toMatchObject({ layers: dims.numLayers, hidden: dims.hiddenSize, kvDim: dims.numKvHeads * dims.headDim });
    expectSameSizes(spec);
  });

  it('the real shapes differ where the layouts do: post-norm and project_in/out, grouped-query heads, the gate', () => {
    const [gpt2, opt350m, tinyLlama] = REAL.map(({ variant, dims }) => modelShape(realShaped(tiny.get(variant)!, dims), 0));
    expect([gpt2!.preNorm, gpt2!.embedProjection, gpt2!.gated]).toEqual([true, false, false]);
    expect([opt350m!.preNorm, opt350m!.embedProjection, opt350m!.finalNorm, opt350m!.wordEmbed]).toEqual([false, true, false, 512]);
    expect([tinyLlama!.gated, tinyLlama!.kvDim, tinyLlama!.qDim]).toEqual([true, 256, 2048]);
  });

  it('refuses bad options in words', () => {
    const spec = tiny.get('gpt2')!;
    const native = loadNative();
    expect(() => native.bufferSizes(spec, { qcfsSite: false, timesteps: 4 })).toThrow("a spiking forward runs on the QCFS site's graph: set qcfsSite");
    expect(() => native.bufferSizes(spec, { qcfsSite: true, timesteps: 0 })).toThrow('bufferSizes options.timesteps must be an integer from 1 to 1024');
    const { 'layers.0.attn.q.weight': _, ...tensors } = spec.tensors;
    expect(() => native.bufferSizes({ ...spec, tensors }, { qcfsSite: false })).toThrow(/layers\.0\.attn\.q\.weight/);
  });
});
