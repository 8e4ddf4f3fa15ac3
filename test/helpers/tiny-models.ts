// Tiny random models in exact Hugging Face layout (config.json, tensor names, prefixes, buffers),
// deterministic from a seed, so tests can load, map and run them in milliseconds.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { roundToDType, type FloatDType } from '../../electron/core/model/dtype.js';
import { byteTokenizerConfig, byteTokenizerJson, BYTE_END_OF_TEXT_ID } from '../../electron/core/model/gpt2-tokenizer.js';
import { writeModelFolder } from '../../electron/core/model/writer.js';
import { mulberry32 } from '../../electron/core/random.js';

export const TINY_VARIANTS = ['gpt2', 'distilgpt2', 'opt', 'opt-350m', 'llama-gqa-tied', 'llama', 'qwen2'] as const;
export type TinyVariant = (typeof TINY_VARIANTS)[number];

export interface TinyModelOptions {
  seed?: number;
  /** dtype of the weights (buffers such as rotary inv_freq stay F32, as in real checkpoints). */
  dtype?: FloatDType;
  /** Write shards of at most this many bytes plus model.safetensors.index.json. */
  maxShardBytes?: number;
}

/** A tensor exactly as written: values are already rounded to the dtype. */
export interface TinyTensor {
  dtype: FloatDType;
  shape: number[];
  values: Float32Array;
}

export interface TinyModelContents {
  config: Record<string, unknown>;
  tensors: Record<string, TinyTensor>;
}

export interface TinyModel extends TinyModelContents {
  dir: string;
  variant: TinyVariant;
}

export const TINY_VOCAB = BYTE_END_OF_TEXT_ID + 1;
export const TINY_POSITIONS = 32;

function variantSeed(variant: TinyVariant, seed: number): number {
  let hash = seed;
  for (const char of variant) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619);
  return hash;
}

/** Collects tensors in a fixed order so the same seed always gives the same weights. */
class TensorBuilder {
  readonly tensors: Record<string, TinyTensor> = {};
  private readonly next: () => number;

  constructor(
    seed: number,
    private readonly dtype: FloatDType,
  ) {
    this.next = mulberry32(seed);
  }

  private normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  private add(name: string, shape: number[], value: () => number, dtype = this.dtype): void {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1)).map(value);
    this.tensors[name] = { dtype, shape, values: roundToDType(values, dtype) };
  }

  weight(name: string, shape: number[], std = 0.3): void {
    this.add(name, shape, () => std * this.normal());
  }

  bias(name: string, size: number): void {
    this.add(name, [size], () => 0.1 * this.normal());
  }

  /** Norm scales near one, so activations keep a sensible size. */
  norm(name: string, size: number, withBias: boolean): void {
    this.add(`${name}.weight`, [size], () => 1 + 0.1 * this.normal());
    if (withBias) this.bias(`${name}.bias`, size);
  }

  linear(name: string, out: number, inp: number, withBias: boolean): void {
    this.weight(`${name}.weight`, [out, inp]);
    if (withBias) this.bias(`${name}.bias`, out);
  }

  /** A non-parameter buffer, stored as F32 whatever the weights' dtype. */
  buffer(name: string, shape: number[], value: (index: number) => number): void {
    let index = 0;
    this.add(name, shape, () => value(index++), 'F32');
  }

  copy(from: string, to: string): void {
    const source = this.tensors[from];
    this.tensors[to] = { ...source, values: source.values.slice() };
  }
}

const tokenIds = { bos_token_id: BYTE_END_OF_TEXT_ID, eos_token_id: BYTE_END_OF_TEXT_ID };

function gpt2(t: TensorBuilder, variant: 'gpt2' | 'distilgpt2'): Record<string, unknown> {
  const distil = variant === 'distilgpt2';
  const e = 16;
  const layers = distil ? 1 : 2;
  const inner = distil ? 40 : 4 * e;
  // The original gpt2 checkpoint has no prefix; distilgpt2 keeps "transformer." and a stored lm_head.
  const p = distil ? 'transformer.' : '';
  t.weight(`${p}wte.weight`, [TINY_VOCAB, e], 0.5);
  t.weight(`${p}wpe.weight`, [TINY_POSITIONS, e], 0.2);
  for (let i = 0; i < layers; i++) {
    const h = `${p}h.${i}`;
    t.norm(`${h}.ln_1`, e, true);
    if (!distil) {
      t.buffer(`${h}.attn.bias`, [1, 1, TINY_POSITIONS, TINY_POSITIONS], (k) => (k % TINY_POSITIONS <= Math.floor(k / TINY_POSITIONS) ? 1 : 0));
    }
    t.buffer(`${h}.attn.masked_bias`, [], () => -1e4);
    t.weight(`${h}.attn.c_attn.weight`, [e, 3 * e]);
    t.bias(`${h}.attn.c_attn.bias`, 3 * e);
    t.weight(`${h}.attn.c_proj.weight`, [e, e]);
    t.bias(`${h}.attn.c_proj.bias`, e);
    t.norm(`${h}.ln_2`, e, true);
    t.weight(`${h}.mlp.c_fc.weight`, [e, inner]);
    t.bias(`${h}.mlp.c_fc.bias`, inner);
    t.weight(`${h}.mlp.c_proj.weight`, [inner, e]);
    t.bias(`${h}.mlp.c_proj.bias`, e);
  }
  t.norm(`${p}ln_f`, e, true);
  if (distil) t.copy(`${p}wte.weight`, 'lm_head.weight');
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: TINY_VOCAB,
    n_positions: TINY_POSITIONS,
    n_ctx: TINY_POSITIONS,
    n_embd: e,
    n_layer: layers,
    n_head: 4,
    n_inner: distil ? inner : null,
    activation_function: 'gelu_new',
    layer_norm_epsilon: 1e-5,
    ...tokenIds,
  };
}

function opt(t: TensorBuilder, variant: 'opt' | 'opt-350m'): Record<string, unknown> {
  // opt-350m style: post-LN blocks, a narrower word embedding with project_in/out, no final norm.
  const small = variant === 'opt-350m';
  const h = 16;
  const w = small ? 8 : h;
  const ffn = 40;
  const p = small ? 'decoder.' : 'model.decoder.';
  t.weight(`${p}embed_tokens.weight`, [TINY_VOCAB, w], 0.5);
  t.weight(`${p}embed_positions.weight`, [TINY_POSITIONS + 2, h], 0.2);
  if (small) {
    t.weight(`${p}project_in.weight`, [h, w]);
    t.weight(`${p}project_out.weight`, [w, h]);
  }
  for (let i = 0; i < 2; i++) {
    const l = `${p}layers.${i}`;
    for (const proj of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) t.linear(`${l}.self_attn.${proj}`, h, h, true);
    t.norm(`${l}.self_attn_layer_norm`, h, true);
    t.linear(`${l}.fc1`, ffn, h, true);
    t.linear(`${l}.fc2`, h, ffn, true);
    t.norm(`${l}.final_layer_norm`, h, true);
  }
  if (!small) {
    t.norm(`${p}final_layer_norm`, h, true);
    t.copy(`${p}embed_tokens.weight`, 'lm_head.weight');
  }
  return {
    architectures: ['OPTForCausalLM'],
    model_type: 'opt',
    vocab_size: TINY_VOCAB,
    hidden_size: h,
    ffn_dim: ffn,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    max_position_embeddings: TINY_POSITIONS,
    do_layer_norm_before: !small,
    word_embed_proj_dim: w,
    activation_function: 'relu',
    enable_bias: true,
    _remove_final_layer_norm: false,
    pad_token_id: 1,
    ...tokenIds,
  };
}

function llama(t: TensorBuilder, variant: 'llama-gqa-tied' | 'llama' | 'qwen2'): Record<string, unknown> {
  const qwen = variant === 'qwen2';
  const tied = variant === 'llama-gqa-tied';
  const h = 16;
  const heads = 4;
  const kvHeads = variant === 'llama' ? 4 : 2;
  // The untied llama variant sets head_dim explicitly, different from hidden / heads.
  const headDim = variant === 'llama' ? 8 : h / heads;
  const ffn = 24;
  t.weight('model.embed_tokens.weight', [TINY_VOCAB, h], 0.5);
  for (let i = 0; i < 2; i++) {
    const l = `model.layers.${i}`;
    t.norm(`${l}.input_layernorm`, h, false);
    t.linear(`${l}.self_attn.q_proj`, heads * headDim, h, qwen);
    t.linear(`${l}.self_attn.k_proj`, kvHeads * headDim, h, qwen);
    t.linear(`${l}.self_attn.v_proj`, kvHeads * headDim, h, qwen);
    t.linear(`${l}.self_attn.o_proj`, h, heads * headDim, false);
    if (tied) t.buffer(`${l}.self_attn.rotary_emb.inv_freq`, [headDim / 2], (j) => 10000 ** ((-2 * j) / headDim));
    t.norm(`${l}.post_attention_layernorm`, h, false);
    t.linear(`${l}.mlp.gate_proj`, ffn, h, false);
    t.linear(`${l}.mlp.up_proj`, ffn, h, false);
    t.linear(`${l}.mlp.down_proj`, h, ffn, false);
  }
  t.norm('model.norm', h, false);
  if (!tied) t.weight('lm_head.weight', [TINY_VOCAB, h]);
  const common = {
    vocab_size: TINY_VOCAB,
    hidden_size: h,
    intermediate_size: ffn,
    num_hidden_layers: 2,
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    hidden_act: 'silu',
    max_position_embeddings: TINY_POSITIONS,
    rms_norm_eps: 1e-6,
    tie_word_embeddings: tied,
    ...tokenIds,
  };
  if (qwen) {
    return {
      architectures: ['Qwen2ForCausalLM'],
      model_type: 'qwen2',
      ...common,
      rope_theta: 1e6,
      use_sliding_window: false,
      sliding_window: TINY_POSITIONS,
      max_window_layers: 2,
    };
  }
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    ...common,
    ...(variant === 'llama' ? { head_dim: headDim } : {}),
    rope_theta: variant === 'llama' ? 500000 : 10000,
    rope_scaling: null,
    attention_bias: false,
    mlp_bias: false,
  };
}

/** Config and tensors of a tiny model, without writing anything. */
export function tinyModelContents(variant: TinyVariant, options: TinyModelOptions = {}): TinyModelContents {
  const t = new TensorBuilder(variantSeed(variant, options.seed ?? 1), options.dtype ?? 'F32');
  let config: Record<string, unknown>;
  switch (variant) {
    case 'gpt2':
    case 'distilgpt2':
      config = gpt2(t, variant);
      break;
    case 'opt':
    case 'opt-350m':
      config = opt(t, variant);
      break;
    default:
      config = llama(t, variant);
  }
  return { config, tensors: t.tensors };
}

/** Writes config, tensors and the byte tokenizer as a Hugging Face folder at `dir`. */
export async function writeTinyFolder(dir: string, contents: TinyModelContents, maxShardBytes?: number): Promise<void> {
  const tensors = Object.fromEntries(Object.entries(contents.tensors).map(([name, { dtype, shape, values }]) => [name, { dtype, shape, data: values }]));
  await writeModelFolder(dir, {
    config: contents.config,
    tensors,
    tokenizerJson: byteTokenizerJson(),
    tokenizerConfig: byteTokenizerConfig(TINY_POSITIONS),
    maxShardBytes,
  });
}

export async function writeTinyModel(dir: string, variant: TinyVariant, options: TinyModelOptions = {}): Promise<TinyModel> {
  const contents = tinyModelContents(variant, options);
  await writeTinyFolder(dir, contents, options.maxShardBytes);
  return { dir, variant, ...contents };
}

/** A fresh temporary folder and a function that deletes it. */
export async function tempDir(): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'fas-model-test-'));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}
