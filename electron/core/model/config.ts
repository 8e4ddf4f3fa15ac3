// config.json -> the engine's hyper-parameters. Defaults are those of the transformers config
// classes, so a folder loads here exactly when (and as) it would load in transformers; anything
// that would change the maths in a way the engine does not implement is refused with a reason.
import { z } from 'zod';
import type { NativeModelSpec } from '../../../native/index.js';
import { ModelFolderError } from './errors.js';

export const SUPPORTED_MODEL_TYPES = ['gpt2', 'opt', 'llama', 'qwen2'] as const;
export type ModelType = (typeof SUPPORTED_MODEL_TYPES)[number];

/** Everything in the engine spec that comes from config.json. */
export type ModelHyperParams = Omit<NativeModelSpec, 'tensors' | 'tiedHead'>;

export interface ModelConfig extends ModelHyperParams {
  modelType: ModelType;
  /** config.json asks for the output head to share the token embedding. */
  tieWordEmbeddings: boolean;
  /** Which optional bias tensors the checkpoint holds. */
  bias: { qkv: boolean; o: boolean; ffn: boolean; norm: boolean };
  hasFinalNorm: boolean;
  /** OPT-350m style project_in / project_out between wordEmbedDim and hiddenSize. */
  hasEmbedProjection: boolean;
  bosTokenId: number | null;
  /** Every end-of-sequence id config.json lists (some models list several). */
  eosTokenIds: number[];
  padTokenId: number | null;
}

/**
 * Upper bounds on every size config.json gives, checked before anything allocates or loops over a
 * size: a hostile or mistyped file (num_hidden_layers: 1000000000) is refused at once. Each bound is
 * far above the largest open model of a supported family (LLaMA 3 405B: 126 layers, hidden 16384,
 * FFN 53248, 128 heads, vocabulary 128256, context 131072).
 */
export const CONFIG_LIMITS = {
  layers: 1024,
  width: 1 << 17,
  heads: 1024,
  vocab: 1 << 22,
  positions: 1 << 21,
} as const;

const count = z.number().int().positive();
const bounded = (max: number, what: string) => count.max(max, { message: `at most ${max.toLocaleString('en-US')} ${what} are supported` });
const layers = bounded(CONFIG_LIMITS.layers, 'layers');
const width = bounded(CONFIG_LIMITS.width, 'units');
const heads = bounded(CONFIG_LIMITS.heads, 'heads');
const vocab = bounded(CONFIG_LIMITS.vocab, 'tokens');
const positions = bounded(CONFIG_LIMITS.positions, 'positions');
const epsilon = z.number().positive();
const tokenId = z.number().int().nonnegative();
const tokenIds = {
  bos_token_id: tokenId.nullish(),
  eos_token_id: z.union([tokenId, z.array(tokenId)]).nullish(),
  pad_token_id: tokenId.nullish(),
};

function idsFrom(raw: { bos_token_id?: number | null; eos_token_id?: number | number[] | null; pad_token_id?: number | null }) {
  const eos = raw.eos_token_id;
  return {
    bosTokenId: raw.bos_token_id ?? null,
    eosTokenIds: eos === null || eos === undefined ? [] : Array.isArray(eos) ? eos : [eos],
    padTokenId: raw.pad_token_id ?? null,
  };
}

/** Parses a config.json object. `file` names the file in error messages. */
export function parseModelConfig(raw: unknown, file: string): ModelConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ModelFolderError('invalid-config', `${file} is not a JSON object.`);
  }
  const modelType = (raw as { model_type?: unknown }).model_type;
  if (typeof modelType !== 'string') {
    throw new ModelFolderError('invalid-config', `${file} has no "model_type", so the architecture is unknown.`);
  }
  if (!(SUPPORTED_MODEL_TYPES as readonly string[]).includes(modelType)) {
    throw new ModelFolderError(
      'unsupported-architecture',
      `${file}: model_type "${modelType}" is not supported. Supported model types: ${SUPPORTED_MODEL_TYPES.join(', ')} ` +
        '(GPT-2, OPT, and the LLaMA family including SmolLM, TinyLlama and Qwen2).',
    );
  }
  if ('quantization_config' in raw) {
    refuse(file, 'the weights are quantized (quantization_config). Use the original float16/bfloat16/float32 model instead.');
  }
  switch (modelType as ModelType) {
    case 'gpt2':
      return parseGpt2(raw, file);
    case 'opt':
      return parseOpt(raw, file);
    case 'llama':
    case 'qwen2':
      return parseLlama(raw, file, modelType as 'llama' | 'qwen2');
  }
}

function refuse(file: string, problem: string): never {
  throw new ModelFolderError('unsupported-config', `${file}: ${problem}`);
}

function validate<T extends z.ZodType>(schema: T, raw: unknown, file: string): z.infer<T> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `"${issue.path.join('.')}": ${issue.message}`);
  throw new ModelFolderError('invalid-config', `${file} has invalid values: ${problems.join('; ')}.`);
}

function divides(file: string, what: string, whole: number, part: number): void {
  if (whole % part !== 0) {
    throw new ModelFolderError('invalid-config', `${file}: ${what} (${whole} is not divisible by ${part}).`);
  }
}

const gpt2Schema = z.object({
  vocab_size: vocab.default(50257),
  n_positions: positions.default(1024),
  n_embd: width.default(768),
  n_layer: layers.default(12),
  n_head: heads.default(12),
  n_inner: width.nullish(),
  activation_function: z.string().default('gelu_new'),
  layer_norm_epsilon: epsilon.default(1e-5),
  scale_attn_weights: z.boolean().default(true),
  scale_attn_by_inverse_layer_idx: z.boolean().default(false),
  reorder_and_upcast_attn: z.boolean().default(false),
  add_cross_attention: z.boolean().default(false),
  tie_word_embeddings: z.boolean().default(true),
  ...tokenIds,
});

function parseGpt2(raw: unknown, file: string): ModelConfig {
  const c = validate(gpt2Schema, raw, file);
  if (c.activation_function !== 'gelu_new') {
    refuse(file, `activation_function "${c.activation_function}" is not supported for GPT-2; only "gelu_new" is.`);
  }
  if (!c.scale_attn_weights) refuse(file, 'scale_attn_weights=false (unscaled attention) is not supported.');
  if (c.scale_attn_by_inverse_layer_idx) refuse(file, 'scale_attn_by_inverse_layer_idx=true is not supported.');
  if (c.reorder_and_upcast_attn) refuse(file, 'reorder_and_upcast_attn=true is not supported.');
  if (c.add_cross_attention) refuse(file, 'add_cross_attention=true (an encoder-decoder GPT-2) is not supported.');
  divides(file, 'n_embd must split evenly into n_head heads', c.n_embd, c.n_head);
  return {
    modelType: 'gpt2',
    family: 'gpt2',
    vocabSize: c.vocab_size,
    hiddenSize: c.n_embd,
    numLayers: c.n_layer,
    numHeads: c.n_head,
    numKvHeads: c.n_head,
    headDim: c.n_embd / c.n_head,
    ffnSize: c.n_inner ?? 4 * c.n_embd,
    maxPositions: c.n_positions,
    positionOffset: 0,
    norm: 'layernorm',
    normEps: c.layer_norm_epsilon,
    activation: 'gelu_new',
    positions: 'learned',
    ropeTheta: 0, // unused: learned positions
    preNorm: true,
    wordEmbedDim: c.n_embd,
    tieWordEmbeddings: c.tie_word_embeddings,
    bias: { qkv: true, o: true, ffn: true, norm: true },
    hasFinalNorm: true,
    hasEmbedProjection: false,
    ...idsFrom(c),
  };
}

const optSchema = z.object({
  vocab_size: vocab.default(50272),
  hidden_size: width.default(768),
  num_hidden_layers: layers.default(12),
  ffn_dim: width.default(3072),
  max_position_embeddings: positions.default(2048),
  do_layer_norm_before: z.boolean().default(true),
  _remove_final_layer_norm: z.boolean().default(false),
  word_embed_proj_dim: width.nullish(),
  num_attention_heads: heads.default(12),
  activation_function: z.string().default('relu'),
  layer_norm_elementwise_affine: z.boolean().default(true),
  enable_bias: z.boolean().default(true),
  tie_word_embeddings: z.boolean().default(true),
  ...tokenIds,
});

function parseOpt(raw: unknown, file: string): ModelConfig {
  const c = validate(optSchema, raw, file);
  if (c.activation_function !== 'relu') {
    refuse(file, `activation_function "${c.activation_function}" is not supported for OPT; only "relu" is.`);
  }
  if (!c.layer_norm_elementwise_affine) refuse(file, 'layer_norm_elementwise_affine=false is not supported.');
  divides(file, 'hidden_size must split evenly into num_attention_heads heads', c.hidden_size, c.num_attention_heads);
  const wordEmbedDim = c.word_embed_proj_dim ?? c.hidden_size;
  return {
    modelType: 'opt',
    family: 'opt',
    vocabSize: c.vocab_size,
    hiddenSize: c.hidden_size,
    numLayers: c.num_hidden_layers,
    numHeads: c.num_attention_heads,
    numKvHeads: c.num_attention_heads,
    headDim: c.hidden_size / c.num_attention_heads,
    ffnSize: c.ffn_dim,
    maxPositions: c.max_position_embeddings,
    positionOffset: 2, // OPTLearnedPositionalEmbedding's fixed offset
    norm: 'layernorm',
    normEps: 1e-5, // OPT uses nn.LayerNorm's default
    activation: 'relu',
    positions: 'learned',
    ropeTheta: 0, // unused: learned positions
    preNorm: c.do_layer_norm_before,
    wordEmbedDim,
    tieWordEmbeddings: c.tie_word_embeddings,
    bias: { qkv: c.enable_bias, o: c.enable_bias, ffn: c.enable_bias, norm: true },
    hasFinalNorm: c.do_layer_norm_before && !c._remove_final_layer_norm,
    hasEmbedProjection: wordEmbedDim !== c.hidden_size,
    ...idsFrom(c),
  };
}

const ropeSettings = z.record(z.string(), z.unknown()).nullish();

/** LLaMA and Qwen2 share a layout; only their defaults and bias placement differ. */
function llamaSchema(modelType: 'llama' | 'qwen2') {
  const qwen = modelType === 'qwen2';
  return z.object({
    vocab_size: vocab.default(qwen ? 151936 : 32000),
    hidden_size: width.default(4096),
    intermediate_size: width.default(qwen ? 22016 : 11008),
    num_hidden_layers: layers.default(32),
    num_attention_heads: heads.default(32),
    num_key_value_heads: heads.nullish(),
    head_dim: width.nullish(),
    hidden_act: z.string().default('silu'),
    max_position_embeddings: positions.default(qwen ? 32768 : 2048),
    rms_norm_eps: epsilon.default(1e-6),
    rope_theta: epsilon.default(10000),
    rope_scaling: ropeSettings,
    // transformers 5 moves rope_theta and the scaling type here.
    rope_parameters: ropeSettings,
    tie_word_embeddings: z.boolean().default(false),
    attention_bias: z.boolean().default(false),
    mlp_bias: z.boolean().default(false),
    use_sliding_window: z.boolean().default(false),
    ...tokenIds,
  });
}

function parseLlama(raw: unknown, file: string, modelType: 'llama' | 'qwen2'): ModelConfig {
  const c = validate(llamaSchema(modelType), raw, file);
  if (c.hidden_act !== 'silu') refuse(file, `hidden_act "${c.hidden_act}" is not supported; only "silu" is.`);
  if (c.use_sliding_window) refuse(file, 'use_sliding_window=true (sliding-window attention) is not supported.');
  for (const [key, settings] of [
    ['rope_scaling', c.rope_scaling],
    ['rope_parameters', c.rope_parameters],
  ] as const) {
    const type = settings?.rope_type ?? settings?.type ?? 'default';
    if (type !== 'default') {
      refuse(
        file,
        `${key} type ${JSON.stringify(type)} is not supported yet; only plain RoPE is. ` +
          'Pick a model without RoPE scaling (for example SmolLM2, TinyLlama or Qwen2.5).',
      );
    }
  }
  const ropeTheta = c.rope_parameters?.rope_theta ?? c.rope_theta;
  if (typeof ropeTheta !== 'number' || !(ropeTheta > 0)) {
    throw new ModelFolderError('invalid-config', `${file}: rope_theta must be a positive number.`);
  }
  const numKvHeads = c.num_key_value_heads ?? c.num_attention_heads;
  divides(file, 'num_attention_heads must be a multiple of num_key_value_heads', c.num_attention_heads, numKvHeads);
  if (c.head_dim === undefined || c.head_dim === null) {
    divides(file, 'hidden_size must split evenly into num_attention_heads heads', c.hidden_size, c.num_attention_heads);
  }
  const headDim = c.head_dim ?? c.hidden_size / c.num_attention_heads;
  if (headDim % 2 !== 0) throw new ModelFolderError('invalid-config', `${file}: head_dim ${headDim} must be even for RoPE.`);
  const qwen = modelType === 'qwen2';
  return {
    modelType,
    family: 'llama',
    vocabSize: c.vocab_size,
    hiddenSize: c.hidden_size,
    numLayers: c.num_hidden_layers,
    numHeads: c.num_attention_heads,
    numKvHeads,
    headDim,
    ffnSize: c.intermediate_size,
    maxPositions: c.max_position_embeddings,
    positionOffset: 0,
    norm: 'rmsnorm',
    normEps: c.rms_norm_eps,
    activation: 'silu_gated',
    positions: 'rope',
    ropeTheta,
    preNorm: true,
    wordEmbedDim: c.hidden_size,
    tieWordEmbeddings: c.tie_word_embeddings,
    // Qwen2 always has q/k/v biases and never an o bias; LLaMA has both or neither.
    bias: { qkv: qwen || c.attention_bias, o: !qwen && c.attention_bias, ffn: !qwen && c.mlp_bias, norm: false },
    hasFinalNorm: true,
    hasEmbedProjection: false,
    ...idsFrom(c),
  };
}
