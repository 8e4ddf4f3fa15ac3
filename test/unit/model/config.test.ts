import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../../electron/core/model/config.js';
import { ModelFolderError } from '../../../electron/core/model/errors.js';
import { TINY_VARIANTS, tinyModelContents } from '../../helpers/tiny-models.js';

const FILE = '/models/x/config.json';
const parse = (raw: unknown) => parseModelConfig(raw, FILE);

function refusal(raw: unknown): ModelFolderError {
  try {
    parse(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ModelFolderError);
    expect((error as Error).message).toContain(FILE);
    return error as ModelFolderError;
  }
  throw new Error('expected the config to be refused');
}

describe('parseModelConfig', () => {
  it('applies the transformers defaults for GPT-2', () => {
    expect(parse({ model_type: 'gpt2' })).toMatchObject({
      family: 'gpt2',
      vocabSize: 50257,
      hiddenSize: 768,
      numLayers: 12,
      numHeads: 12,
      numKvHeads: 12,
      headDim: 64,
      ffnSize: 3072,
      maxPositions: 1024,
      positionOffset: 0,
      norm: 'layernorm',
      normEps: 1e-5,
      activation: 'gelu_new',
      positions: 'learned',
      preNorm: true,
      wordEmbedDim: 768,
      tieWordEmbeddings: true,
    });
    expect(parse({ model_type: 'gpt2', n_embd: 64, n_head: 4, n_inner: 100 }).ffnSize).toBe(100);
  });

  it('reads OPT, including the OPT-350m post-LN layout', () => {
    const opt125 = parse({ model_type: 'opt', hidden_size: 768, ffn_dim: 3072, word_embed_proj_dim: 768, eos_token_id: 2 });
    expect(opt125).toMatchObject({
      family: 'opt',
      positionOffset: 2,
      activation: 'relu',
      preNorm: true,
      hasFinalNorm: true,
      hasEmbedProjection: false,
      eosTokenIds: [2],
    });
    const opt350 = parse({
      model_type: 'opt',
      hidden_size: 1024,
      num_attention_heads: 16,
      do_layer_norm_before: false,
      word_embed_proj_dim: 512,
    });
    expect(opt350).toMatchObject({ preNorm: false, hasFinalNorm: false, hasEmbedProjection: true, wordEmbedDim: 512, headDim: 64 });
    expect(parse({ model_type: 'opt', _remove_final_layer_norm: true }).hasFinalNorm).toBe(false);
    expect(parse({ model_type: 'opt', enable_bias: false }).bias).toEqual({ qkv: false, o: false, ffn: false, norm: true });
  });

  it('reads LLaMA with GQA, head_dim and RoPE defaults', () => {
    const smol = parse({
      model_type: 'llama',
      hidden_size: 576,
      intermediate_size: 1536,
      num_hidden_layers: 30,
      num_attention_heads: 9,
      num_key_value_heads: 3,
      rms_norm_eps: 1e-5,
      rope_theta: 100000,
      tie_word_embeddings: true,
      max_position_embeddings: 8192,
      vocab_size: 49152,
      rope_scaling: null,
    });
    expect(smol).toMatchObject({
      family: 'llama',
      modelType: 'llama',
      numHeads: 9,
      numKvHeads: 3,
      headDim: 64,
      ffnSize: 1536,
      norm: 'rmsnorm',
      normEps: 1e-5,
      activation: 'silu_gated',
      positions: 'rope',
      ropeTheta: 100000,
      tieWordEmbeddings: true,
      bias: { qkv: false, o: false, ffn: false, norm: false },
    });
    const defaults = parse({ model_type: 'llama', hidden_size: 64, num_attention_heads: 4 });
    expect(defaults).toMatchObject({ numKvHeads: 4, headDim: 16, ropeTheta: 10000, normEps: 1e-6, tieWordEmbeddings: false });
    expect(parse({ model_type: 'llama', hidden_size: 64, num_attention_heads: 4, head_dim: 32 }).headDim).toBe(32);
    const biased = parse({ model_type: 'llama', attention_bias: true, mlp_bias: true });
    expect(biased.bias).toEqual({ qkv: true, o: true, ffn: true, norm: false });
    expect(parse({ model_type: 'llama', rope_scaling: { type: 'default' } }).ropeTheta).toBe(10000);
    expect(parse({ model_type: 'llama', rope_parameters: { rope_type: 'default', rope_theta: 5e5 } }).ropeTheta).toBe(5e5);
  });

  it('gives Qwen2 q/k/v biases and no o bias', () => {
    const qwen = parse({
      model_type: 'qwen2',
      hidden_size: 896,
      num_attention_heads: 14,
      num_key_value_heads: 2,
      eos_token_id: [151645, 151643],
    });
    expect(qwen).toMatchObject({ family: 'llama', modelType: 'qwen2', headDim: 64, vocabSize: 151936, maxPositions: 32768 });
    expect(qwen.bias).toEqual({ qkv: true, o: false, ffn: false, norm: false });
    expect(qwen.eosTokenIds).toEqual([151645, 151643]);
  });

  it.each(TINY_VARIANTS)('parses the tiny %s config', (variant) => {
    expect(() => parse(tinyModelContents(variant).config)).not.toThrow();
  });
});

describe('parseModelConfig refuses', () => {
  it('an unsupported model_type, naming it and listing the supported ones', () => {
    const error = refusal({ model_type: 'mistral' });
    expect(error.reason).toBe('unsupported-architecture');
    expect(error.message).toContain('"mistral"');
    expect(error.message).toContain('gpt2, opt, llama, qwen2');
  });

  it('a config without model_type, or that is not an object', () => {
    expect(refusal({ hidden_size: 8 }).reason).toBe('invalid-config');
    expect(refusal([1]).reason).toBe('invalid-config');
  });

  it('invalid values, saying which key', () => {
    const error = refusal({ model_type: 'gpt2', n_embd: -3, n_layer: 'twelve' });
    expect(error.reason).toBe('invalid-config');
    expect(error.message).toContain('"n_embd"');
    expect(error.message).toContain('"n_layer"');
    expect(refusal({ model_type: 'gpt2', n_embd: 10, n_head: 4 }).message).toMatch(/not divisible/);
    const uneven = refusal({ model_type: 'llama', num_attention_heads: 32, num_key_value_heads: 5 });
    expect(uneven.message).toMatch(/multiple of num_key_value_heads/);
  });

  it.each([
    [{ model_type: 'gpt2', activation_function: 'relu' }, /activation_function "relu" is not supported for GPT-2/],
    [{ model_type: 'gpt2', scale_attn_by_inverse_layer_idx: true }, /scale_attn_by_inverse_layer_idx/],
    [{ model_type: 'gpt2', reorder_and_upcast_attn: true }, /reorder_and_upcast_attn/],
    [{ model_type: 'gpt2', scale_attn_weights: false }, /scale_attn_weights/],
    [{ model_type: 'opt', activation_function: 'gelu' }, /"gelu" is not supported for OPT/],
    [{ model_type: 'llama', hidden_act: 'gelu' }, /hidden_act "gelu"/],
    [{ model_type: 'llama', rope_scaling: { rope_type: 'llama3', factor: 32 } }, /rope_scaling type "llama3" is not supported/],
    [{ model_type: 'llama', rope_scaling: { type: 'linear', factor: 2 } }, /rope_scaling type "linear"/],
    [{ model_type: 'llama', rope_parameters: { rope_type: 'yarn' } }, /rope_parameters type "yarn"/],
    [{ model_type: 'qwen2', use_sliding_window: true }, /sliding-window/],
    [{ model_type: 'llama', quantization_config: { quant_method: 'gptq' } }, /quantized/],
  ])('%j', (raw, message) => {
    const error = refusal(raw);
    expect(error.reason).toBe('unsupported-config');
    expect(error.message).toMatch(message);
  });
});
