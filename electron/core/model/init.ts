// A fresh, randomly initialised model in Hugging Face layout (`fas init`): how the demo model
// starts before it is pretrained. GPT-2-style initialisation for every family: weights N(0, 0.02),
// residual output projections scaled by 1/sqrt(2 * layers), biases 0, norm scales 1.
import type { ModelFamily } from '../../../native/index.js';
import { mulberry32 } from '../random.js';
import { parseModelConfig } from './config.js';
import { familyLayout } from './mapping.js';
import type { WritableTensor } from './safetensors.js';

export interface InitOptions {
  arch: ModelFamily;
  layers: number;
  dModel: number;
  heads: number;
  /** Grouped-query heads (llama only); defaults to `heads`. */
  kvHeads?: number;
  /** Defaults: 4 x dModel (gpt2, opt); 8/3 x dModel rounded to a multiple of 64 (llama). */
  dFF?: number;
  context: number;
  vocabSize: number;
  bosTokenId: number | null;
  eosTokenId: number | null;
}

/** config.json of the new model; throws an Error in words when the sizes do not fit together. */
export function initConfig(o: InitOptions): Record<string, unknown> {
  for (const [name, value] of Object.entries({ layers: o.layers, 'd-model': o.dModel, heads: o.heads, context: o.context, vocabulary: o.vocabSize })) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive whole number (got ${value}).`);
  }
  if (o.dModel % o.heads !== 0) throw new Error(`--d-model (${o.dModel}) must be divisible by --heads (${o.heads}).`);
  const kvHeads = o.kvHeads ?? o.heads;
  if (o.heads % kvHeads !== 0) throw new Error(`--heads (${o.heads}) must be divisible by the key/value heads (${kvHeads}).`);
  const tokens = { bos_token_id: o.bosTokenId, eos_token_id: o.eosTokenId };
  switch (o.arch) {
    case 'gpt2':
      return {
        model_type: 'gpt2',
        architectures: ['GPT2LMHeadModel'],
        vocab_size: o.vocabSize,
        n_positions: o.context,
        n_ctx: o.context,
        n_embd: o.dModel,
        n_layer: o.layers,
        n_head: o.heads,
        n_inner: o.dFF ?? 4 * o.dModel,
        activation_function: 'gelu_new',
        layer_norm_epsilon: 1e-5,
        tie_word_embeddings: true,
        ...tokens,
      };
    case 'opt':
      return {
        model_type: 'opt',
        architectures: ['OPTForCausalLM'],
        vocab_size: o.vocabSize,
        max_position_embeddings: o.context,
        hidden_size: o.dModel,
        word_embed_proj_dim: o.dModel,
        num_hidden_layers: o.layers,
        num_attention_heads: o.heads,
        ffn_dim: o.dFF ?? 4 * o.dModel,
        activation_function: 'relu',
        do_layer_norm_before: true,
        enable_bias: true,
        tie_word_embeddings: true,
        pad_token_id: o.eosTokenId,
        ...tokens,
      };
    case 'llama':
      return {
        model_type: 'llama',
        architectures: ['LlamaForCausalLM'],
        vocab_size: o.vocabSize,
        max_position_embeddings: o.context,
        hidden_size: o.dModel,
        num_hidden_layers: o.layers,
        num_attention_heads: o.heads,
        num_key_value_heads: kvHeads,
        intermediate_size: o.dFF ?? Math.ceil((8 * o.dModel) / 3 / 64) * 64,
        hidden_act: 'silu',
        rms_norm_eps: 1e-5,
        rope_theta: 10000,
        tie_word_embeddings: true,
        ...tokens,
      };
  }
}

/** Random weights under Hugging Face names for `config`, deterministic from `seed`. */
export function initTensors(config: Record<string, unknown>, seed: number): Record<string, WritableTensor> {
  const parsed = parseModelConfig(config, 'config.json');
  const random = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const residualStd = 0.02 / Math.sqrt(2 * parsed.numLayers);
  const layout = familyLayout(parsed.family);
  const prefix = layout.prefixes[0]!;
  const out: Record<string, WritableTensor> = {};
  for (const planned of layout.tensors(parsed)) {
    const name = prefix + planned.hfName;
    if (out[name]) continue; // a fused tensor is listed once per part
    const data = new Float32Array(planned.shape.reduce((a, b) => a * b, 1));
    const role = planned.canonical;
    if (/norm\.weight$/.test(role)) data.fill(1);
    else if (!/\.bias$/.test(role)) {
      const std = /attn\.o\.weight$|ffn\.down\.weight$/.test(role) ? residualStd : role === 'embed.positions' ? 0.01 : 0.02;
      for (let i = 0; i < data.length; i++) data[i] = std * normal();
    }
    out[name] = { dtype: 'F32', shape: planned.shape, data };
  }
  return out;
}
