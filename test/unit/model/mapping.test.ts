import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NativeModelSpec, NativeTensorRef } from '../../../native/index.js';
import { readCheckpoint } from '../../../electron/core/model/checkpoint.js';
import { parseModelConfig } from '../../../electron/core/model/config.js';
import { decodeFloats, type FloatDType } from '../../../electron/core/model/dtype.js';
import { ModelFolderError } from '../../../electron/core/model/errors.js';
import { openModelFolder } from '../../../electron/core/model/folder.js';
import { buildModelSpec } from '../../../electron/core/model/mapping.js';
import { readTensorBytes } from '../../../electron/core/model/safetensors.js';
import { tempDir, tinyModelContents, writeTinyFolder, writeTinyModel, type TinyModelContents, type TinyVariant } from '../../helpers/tiny-models.js';

let root: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ path: root, cleanup } = await tempDir()));
afterAll(() => cleanup());

/**
 * Canonical name -> Hugging Face name, written out by hand from the contract in native/index.ts
 * and the transformers modeling files (independently of the loader's layout tables).
 */
function expectedNames(variant: TinyVariant): Record<string, string> {
  const names: Record<string, string> = {};
  const layers = variant === 'distilgpt2' ? 1 : 2;
  const pair = (canonical: string, hf: string, suffixes = ['weight', 'bias']) => {
    for (const s of suffixes) names[`${canonical}.${s}`] = `${hf}.${s}`;
  };
  if (variant === 'gpt2' || variant === 'distilgpt2') {
    const p = variant === 'gpt2' ? '' : 'transformer.';
    names['embed.tokens'] = `${p}wte.weight`;
    names['embed.positions'] = `${p}wpe.weight`;
    pair('final_norm', `${p}ln_f`);
    for (let i = 0; i < layers; i++) {
      const l = `layers.${i}`;
      const h = `${p}h.${i}`;
      pair(`${l}.attn_norm`, `${h}.ln_1`);
      for (const x of ['q', 'k', 'v']) pair(`${l}.attn.${x}`, `${h}.attn.c_attn`);
      pair(`${l}.attn.o`, `${h}.attn.c_proj`);
      pair(`${l}.ffn_norm`, `${h}.ln_2`);
      pair(`${l}.ffn.up`, `${h}.mlp.c_fc`);
      pair(`${l}.ffn.down`, `${h}.mlp.c_proj`);
    }
  } else if (variant === 'opt' || variant === 'opt-350m') {
    const p = variant === 'opt' ? 'model.decoder.' : 'decoder.';
    names['embed.tokens'] = `${p}embed_tokens.weight`;
    names['embed.positions'] = `${p}embed_positions.weight`;
    if (variant === 'opt') pair('final_norm', `${p}final_layer_norm`);
    else {
      names['embed.project_in'] = `${p}project_in.weight`;
      names['head.project_out'] = `${p}project_out.weight`;
    }
    for (let i = 0; i < layers; i++) {
      const l = `layers.${i}`;
      const h = `${p}layers.${i}`;
      pair(`${l}.attn_norm`, `${h}.self_attn_layer_norm`);
      for (const x of ['q', 'k', 'v']) pair(`${l}.attn.${x}`, `${h}.self_attn.${x}_proj`);
      pair(`${l}.attn.o`, `${h}.self_attn.out_proj`);
      pair(`${l}.ffn_norm`, `${h}.final_layer_norm`);
      pair(`${l}.ffn.up`, `${h}.fc1`);
      pair(`${l}.ffn.down`, `${h}.fc2`);
    }
  } else {
    names['embed.tokens'] = 'model.embed_tokens.weight';
    pair('final_norm', 'model.norm', ['weight']);
    if (variant !== 'llama-gqa-tied') names['head.weight'] = 'lm_head.weight';
    for (let i = 0; i < layers; i++) {
      const l = `layers.${i}`;
      const h = `model.layers.${i}`;
      pair(`${l}.attn_norm`, `${h}.input_layernorm`, ['weight']);
      const qkv = variant === 'qwen2' ? ['weight', 'bias'] : ['weight'];
      for (const x of ['q', 'k', 'v']) pair(`${l}.attn.${x}`, `${h}.self_attn.${x}_proj`, qkv);
      pair(`${l}.attn.o`, `${h}.self_attn.o_proj`, ['weight']);
      pair(`${l}.ffn_norm`, `${h}.post_attention_layernorm`, ['weight']);
      for (const x of ['gate', 'up', 'down']) pair(`${l}.ffn.${x}`, `${h}.mlp.${x}_proj`, ['weight']);
    }
  }
  return names;
}

/** Canonical shapes from the contract's table. */
function contractShape(spec: NativeModelSpec, canonical: string): number[] {
  const { hiddenSize: h, numHeads, numKvHeads, headDim, ffnSize: f, vocabSize, wordEmbedDim: w } = spec;
  const name = canonical.replace(/^layers\.\d+\./, '');
  const weight: Record<string, number[]> = {
    'embed.tokens': [vocabSize, w],
    'embed.positions': [spec.maxPositions + spec.positionOffset, h],
    'embed.project_in': [h, w],
    'head.project_out': [w, h],
    'head.weight': [vocabSize, w],
    'attn.q.weight': [numHeads * headDim, h],
    'attn.k.weight': [numKvHeads * headDim, h],
    'attn.v.weight': [numKvHeads * headDim, h],
    'attn.o.weight': [h, numHeads * headDim],
    'ffn.up.weight': [f, h],
    'ffn.gate.weight': [f, h],
    'ffn.down.weight': [h, f],
  };
  if (weight[name]) return weight[name];
  if (/norm\.(weight|bias)$/.test(name)) return [h];
  const bias = name.match(/^(.*)\.bias$/);
  if (bias) return [weight[`${bias[1]}.weight`][0]];
  throw new Error(`no contract shape for ${canonical}`);
}

function canonicalShape(ref: NativeTensorRef): number[] {
  const shape = ref.transposed ? [...ref.shape].reverse() : [...ref.shape];
  if (ref.split) shape[0] /= ref.split.parts;
  return shape;
}

const CASES: { variant: TinyVariant; dtype: FloatDType; maxShardBytes?: number }[] = [
  { variant: 'gpt2', dtype: 'F32' },
  { variant: 'distilgpt2', dtype: 'F32' },
  { variant: 'opt', dtype: 'F32' },
  { variant: 'opt-350m', dtype: 'F32' },
  { variant: 'llama-gqa-tied', dtype: 'F32' },
  { variant: 'llama', dtype: 'F32' },
  { variant: 'qwen2', dtype: 'F32' },
  { variant: 'gpt2', dtype: 'BF16' },
  { variant: 'opt-350m', dtype: 'F16' },
  { variant: 'llama-gqa-tied', dtype: 'F16' },
  { variant: 'qwen2', dtype: 'BF16' },
  { variant: 'llama', dtype: 'F32', maxShardBytes: 8192 },
  { variant: 'gpt2', dtype: 'F16', maxShardBytes: 4096 },
];

describe.each(CASES)('tiny $variant ($dtype, shards of $maxShardBytes bytes)', ({ variant, dtype, maxShardBytes }) => {
  it('maps every tensor with the contract shape, flags and the right bytes', async () => {
    const dir = join(root, `${variant}-${dtype}-${maxShardBytes ?? 'single'}`);
    const model = await writeTinyModel(dir, variant, { dtype, maxShardBytes });
    const { spec, warnings, summary } = await openModelFolder(dir);
    expect(warnings).toEqual([]);

    const names = expectedNames(variant);
    expect(Object.keys(spec.tensors).sort()).toEqual(Object.keys(names).sort());
    expect(spec.tiedHead).toBe(!('head.weight' in names));

    const files = new Set<string>();
    for (const [canonical, ref] of Object.entries(spec.tensors)) {
      const written = model.tensors[names[canonical]];
      expect(ref.file.startsWith(dir)).toBe(true);
      files.add(ref.file);
      expect(ref.dtype).toBe(dtype);
      expect(ref.shape).toEqual(written.shape);
      expect(canonicalShape(ref), canonical).toEqual(contractShape(spec, canonical));
      const gpt2 = spec.family === 'gpt2';
      expect(ref.transposed ?? false, canonical).toBe(gpt2 && canonical.endsWith('.weight') && /attn\.|ffn\./.test(canonical));
      const fused = gpt2 && /attn\.[qkv]\./.test(canonical);
      expect(ref.split, canonical).toEqual(fused ? { index: 'qkv'.indexOf(canonical.split('.')[3]), parts: 3 } : undefined);
      expect(decodeFloats(await readTensorBytes(ref), ref.dtype), canonical).toEqual(written.values);
    }
    if (maxShardBytes) expect(files.size).toBeGreaterThan(1);
    else expect(files.size).toBe(1);

    expect(summary.dtypes).toEqual([dtype]);
    expect(summary.layers).toBe(spec.numLayers);
  });
});

describe('tensor mapping', () => {
  it('reads the split of GPT-2 c_attn as q | k | v along the output dimension', async () => {
    const dir = join(root, 'gpt2-split');
    const model = await writeTinyModel(dir, 'gpt2');
    const { spec } = await openModelFolder(dir);
    const e = spec.hiddenSize;
    const fused = model.tensors['h.0.attn.c_attn.weight'].values; // [in = e, out = 3e]
    for (const [index, name] of ['q', 'k', 'v'].entries()) {
      const ref = spec.tensors[`layers.0.attn.${name}.weight`];
      expect(ref.split).toEqual({ index, parts: 3 });
      // Canonical [out, in]: out row r of part `index` is column index*e + r of the stored tensor.
      const all = decodeFloats(await readTensorBytes(ref), ref.dtype);
      const canonical = Array.from({ length: e * e }, (_, k) => all[(k % e) * 3 * e + index * e + Math.floor(k / e)]);
      const expected = Array.from({ length: e * e }, (_, k) => fused[(k % e) * 3 * e + index * e + Math.floor(k / e)]);
      expect(canonical).toEqual(expected);
    }
  });

  it('counts parameters once for fused and tied tensors', async () => {
    const dir = join(root, 'gpt2-count');
    const model = await writeTinyModel(dir, 'gpt2');
    const { summary } = await openModelFolder(dir);
    const buffers = /\.attn\.(bias|masked_bias)$/;
    const expected = Object.entries(model.tensors)
      .filter(([name]) => !buffers.test(name))
      .reduce((sum, [, t]) => sum + t.values.length, 0);
    expect(summary.parameterCount).toBe(expected);
    expect(summary.weightBytes).toBe(expected * 4);
    expect(summary.estimatedRunBytes).toBeGreaterThan(expected * 4);
  });

  it('estimates the memory to run a 16-bit model with its matrices in 2 bytes', async () => {
    const f32 = (await openModelFolder(join(root, 'gpt2-count'))).summary;
    const dir = join(root, 'gpt2-f16-count');
    await writeTinyModel(dir, 'gpt2', { dtype: 'F16' });
    const { summary } = await openModelFolder(dir);
    expect(summary.weightBytes).toBe(summary.parameterCount * 2);
    // The engine widens the vectors (biases, norms) to F32, so a little more than half the F32 weights.
    const saved = f32.estimatedRunBytes - summary.estimatedRunBytes;
    expect(saved).toBeLessThan(summary.parameterCount * 2);
    expect(saved).toBeGreaterThan(summary.parameterCount * 1.5);
  });

  async function mapContents(name: string, variant: TinyVariant, edit: (contents: TinyModelContents) => void) {
    const contents = tinyModelContents(variant);
    edit(contents);
    const dir = join(root, name);
    await writeTinyFolder(dir, contents);
    return buildModelSpec(parseModelConfig(contents.config, join(dir, 'config.json')), await readCheckpoint(dir));
  }

  async function mappingError(name: string, variant: TinyVariant, edit: (contents: TinyModelContents) => void) {
    const error = await mapContents(name, variant, edit).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelFolderError);
    expect((error as ModelFolderError).reason).toBe('tensor-mismatch');
    return (error as Error).message;
  }

  it('names the file and tensor when a tensor is missing', async () => {
    const message = await mappingError('missing', 'llama', ({ tensors }) => delete tensors['model.layers.1.mlp.up_proj.weight']);
    expect(message).toContain('"model.layers.1.mlp.up_proj.weight" is missing from');
    expect(message).toContain(join(root, 'missing', 'model.safetensors'));
  });

  it('names the file, tensor and both shapes when a shape is wrong', async () => {
    const message = await mappingError('shape', 'qwen2', ({ config }) => {
      config.intermediate_size = 32; // the tensors were made for 24
    });
    expect(message).toContain('model.safetensors: tensor "model.layers.0.mlp.gate_proj.weight" has shape [24, 16]');
    expect(message).toContain('but config.json implies [32, 16]');
  });

  it('refuses weights that are not F32, F16 or BF16', async () => {
    const dir = join(root, 'int8');
    await writeTinyModel(dir, 'opt');
    const checkpoint = await readCheckpoint(dir);
    const name = 'model.decoder.layers.0.fc1.weight';
    checkpoint.tensors.set(name, { ...checkpoint.tensors.get(name)!, dtype: 'I8' });
    const config = parseModelConfig(tinyModelContents('opt').config, join(dir, 'config.json'));
    expect(() => buildModelSpec(config, checkpoint)).toThrow(`tensor "${name}" has dtype I8; only F32, F16 and BF16`);
  });

  it('refuses weights of another family', async () => {
    const message = await mappingError('family', 'gpt2', ({ config }) => {
      Object.assign(config, { model_type: 'opt', activation_function: 'relu', hidden_size: 16, num_attention_heads: 4 });
    });
    expect(message).toMatch(/no "model\.decoder\.embed_tokens\.weight" or "decoder\.embed_tokens\.weight" tensor/);
  });

  it('warns about unused tensors and about a missing untied head', async () => {
    const { spec, warnings } = await mapContents('extras', 'llama', ({ tensors }) => {
      tensors['model.layers.0.self_attn.q_norm.weight'] = { dtype: 'F32', shape: [8], values: new Float32Array(8) };
      delete tensors['lm_head.weight'];
    });
    expect(spec.tiedHead).toBe(true);
    expect(spec.tensors['head.weight']).toBeUndefined();
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/tie_word_embeddings=false but the weights have no "lm_head\.weight"/);
    expect(warnings[1]).toMatch(/Ignored 1 tensor\(s\).*"model\.layers\.0\.self_attn\.q_norm\.weight"/);
  });

  it('uses the embedding as head when the config ties it, even if lm_head is stored', async () => {
    const { spec, warnings } = await mapContents('tied', 'qwen2', ({ config }) => {
      config.tie_word_embeddings = true;
    });
    expect(spec.tiedHead).toBe(true);
    expect(spec.tensors['head.weight']).toBeUndefined();
    expect(warnings).toEqual([]);
  });
});
