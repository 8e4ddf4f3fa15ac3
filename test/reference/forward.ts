// An independent float64 forward pass, written straight from the transformers modeling code
// (modeling_gpt2.py, modeling_opt.py, modeling_llama.py, modeling_qwen2.py) against Hugging Face
// tensor names and config.json with transformers' defaults. It shares no code with the loader, so
// comparing the engine's logits with these checks the loader's mapping as well as the engine.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { add, causalAttention, columns, conv1d, embed, geluNew, layerNorm, linear, map, multiply, relu, rmsNorm, rope, row, silu, type Mat } from './ops.js';
import { HfWeights, type Tensor64 } from './weights.js';

type Config = Record<string, unknown>;

/** Logits for every position of `ids` (one Float64Array of vocab_size per position). */
export async function referenceForward(dir: string, ids: readonly number[]): Promise<Float64Array[]> {
  const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Config;
  const weights = await HfWeights.open(dir);
  let logits: Mat;
  switch (config.model_type) {
    case 'gpt2':
      logits = await gpt2(config, weights, ids);
      break;
    case 'opt':
      logits = await opt(config, weights, ids);
      break;
    case 'llama':
    case 'qwen2':
      logits = await llama(config, weights, ids);
      break;
    default:
      throw new Error(`reference: model_type ${String(config.model_type)} not implemented`);
  }
  return Array.from({ length: logits.rows }, (_, r) => row(logits, r).slice());
}

function setting<T>(config: Config, key: string, fallback: T): T {
  const value = config[key];
  return value === undefined || value === null ? fallback : (value as T);
}

/** Logits against the token embedding, or against lm_head when the config unties them. */
async function outputHead(config: Config, weights: HfWeights, embedding: Tensor64, tieByDefault: boolean): Promise<Tensor64> {
  const tied = setting(config, 'tie_word_embeddings', tieByDefault);
  return !tied && weights.has('lm_head.weight') ? weights.get('lm_head.weight') : embedding;
}

async function gpt2(config: Config, weights: HfWeights, ids: readonly number[]): Promise<Mat> {
  const e = setting(config, 'n_embd', 768);
  const heads = setting(config, 'n_head', 12);
  const layers = setting(config, 'n_layer', 12);
  const eps = setting(config, 'layer_norm_epsilon', 1e-5);
  const prefix = weights.has('wte.weight') ? '' : 'transformer.';
  const w = (name: string) => weights.get(prefix + name);

  const wte = await w('wte.weight');
  const wpe = await w('wpe.weight');
  let h = add(
    embed(wte, ids),
    embed(
      wpe,
      ids.map((_, pos) => pos),
    ),
  );
  for (let i = 0; i < layers; i++) {
    const p = `h.${i}.`;
    const a = layerNorm(h, await w(`${p}ln_1.weight`), await w(`${p}ln_1.bias`), eps);
    const qkv = conv1d(a, await w(`${p}attn.c_attn.weight`), await w(`${p}attn.c_attn.bias`));
    const [q, k, v] = [0, 1, 2].map((part) => columns(qkv, part * e, (part + 1) * e));
    const headDim = e / heads;
    const attention = causalAttention(q, k, v, heads, heads, headDim, 1 / Math.sqrt(headDim));
    h = add(h, conv1d(attention, await w(`${p}attn.c_proj.weight`), await w(`${p}attn.c_proj.bias`)));
    const m = layerNorm(h, await w(`${p}ln_2.weight`), await w(`${p}ln_2.bias`), eps);
    const up = map(conv1d(m, await w(`${p}mlp.c_fc.weight`), await w(`${p}mlp.c_fc.bias`)), geluNew);
    h = add(h, conv1d(up, await w(`${p}mlp.c_proj.weight`), await w(`${p}mlp.c_proj.bias`)));
  }
  h = layerNorm(h, await w('ln_f.weight'), await w('ln_f.bias'), eps);
  return linear(h, await outputHead(config, weights, wte, true));
}

async function opt(config: Config, weights: HfWeights, ids: readonly number[]): Promise<Mat> {
  const hidden = setting(config, 'hidden_size', 768);
  const heads = setting(config, 'num_attention_heads', 12);
  const layers = setting(config, 'num_hidden_layers', 12);
  const wordDim = setting(config, 'word_embed_proj_dim', hidden);
  const preNorm = setting(config, 'do_layer_norm_before', true);
  const finalNorm = preNorm && !setting(config, '_remove_final_layer_norm', false);
  const bias = setting(config, 'enable_bias', true);
  const eps = 1e-5; // nn.LayerNorm default
  const prefix = weights.has('model.decoder.embed_tokens.weight') ? 'model.decoder.' : 'decoder.';
  const w = (name: string) => weights.get(prefix + name);
  const maybe = async (name: string) => (bias ? w(name) : undefined);
  const norm = async (x: Mat, name: string) => layerNorm(x, await w(`${name}.weight`), await w(`${name}.bias`), eps);

  const tokens = await w('embed_tokens.weight');
  let h = embed(tokens, ids);
  if (wordDim !== hidden) h = linear(h, await w('project_in.weight'));
  // OPTLearnedPositionalEmbedding: position p reads row p + 2.
  h = add(
    h,
    embed(
      await w('embed_positions.weight'),
      ids.map((_, pos) => pos + 2),
    ),
  );
  const headDim = hidden / heads;
  for (let i = 0; i < layers; i++) {
    const p = `layers.${i}.`;
    let residual = h;
    let x = preNorm ? await norm(h, `${p}self_attn_layer_norm`) : h;
    const proj = async (name: string) => linear(x, await w(`${p}self_attn.${name}.weight`), await maybe(`${p}self_attn.${name}.bias`));
    const [q, k, v] = [await proj('q_proj'), await proj('k_proj'), await proj('v_proj')];
    const attention = causalAttention(q, k, v, heads, heads, headDim, headDim ** -0.5);
    h = add(residual, linear(attention, await w(`${p}self_attn.out_proj.weight`), await maybe(`${p}self_attn.out_proj.bias`)));
    if (!preNorm) h = await norm(h, `${p}self_attn_layer_norm`);

    residual = h;
    x = preNorm ? await norm(h, `${p}final_layer_norm`) : h;
    const up = map(linear(x, await w(`${p}fc1.weight`), await maybe(`${p}fc1.bias`)), relu);
    h = add(residual, linear(up, await w(`${p}fc2.weight`), await maybe(`${p}fc2.bias`)));
    if (!preNorm) h = await norm(h, `${p}final_layer_norm`);
  }
  if (finalNorm) h = await norm(h, 'final_layer_norm');
  if (wordDim !== hidden) h = linear(h, await w('project_out.weight'));
  return linear(h, await outputHead(config, weights, tokens, true));
}

async function llama(config: Config, weights: HfWeights, ids: readonly number[]): Promise<Mat> {
  const qwen = config.model_type === 'qwen2';
  const hidden = setting(config, 'hidden_size', 4096);
  const heads = setting(config, 'num_attention_heads', 32);
  const kvHeads = setting(config, 'num_key_value_heads', heads);
  const headDim = setting(config, 'head_dim', hidden / heads);
  const layers = setting(config, 'num_hidden_layers', 32);
  const eps = setting(config, 'rms_norm_eps', 1e-6);
  // transformers 5 keeps rope_theta in rope_parameters.
  const ropeParameters = setting<Config>(config, 'rope_parameters', {});
  const theta = setting(ropeParameters, 'rope_theta', setting(config, 'rope_theta', 10000));
  // Qwen2: biases on q, k, v and nowhere else. LLaMA: attention_bias covers q, k, v, o.
  const qkvBias = qwen || setting(config, 'attention_bias', false);
  const oBias = !qwen && setting(config, 'attention_bias', false);
  const mlpBias = !qwen && setting(config, 'mlp_bias', false);
  const prefix = weights.has('model.embed_tokens.weight') ? 'model.' : '';
  const w = (name: string) => weights.get(prefix + name);
  const maybe = async (name: string, present: boolean) => (present ? w(name) : undefined);

  const tokens = await w('embed_tokens.weight');
  let h = embed(tokens, ids);
  for (let i = 0; i < layers; i++) {
    const p = `layers.${i}.`;
    const a = rmsNorm(h, await w(`${p}input_layernorm.weight`), eps);
    const proj = async (name: string, present: boolean) =>
      linear(a, await w(`${p}self_attn.${name}.weight`), await maybe(`${p}self_attn.${name}.bias`, present));
    const q = rope(await proj('q_proj', qkvBias), heads, headDim, theta);
    const k = rope(await proj('k_proj', qkvBias), kvHeads, headDim, theta);
    const v = await proj('v_proj', qkvBias);
    const attention = causalAttention(q, k, v, heads, kvHeads, headDim, headDim ** -0.5);
    h = add(h, linear(attention, await w(`${p}self_attn.o_proj.weight`), await maybe(`${p}self_attn.o_proj.bias`, oBias)));

    const m = rmsNorm(h, await w(`${p}post_attention_layernorm.weight`), eps);
    const mlp = async (name: string) => linear(m, await w(`${p}mlp.${name}.weight`), await maybe(`${p}mlp.${name}.bias`, mlpBias));
    const gated = multiply(map(await mlp('gate_proj'), silu), await mlp('up_proj'));
    h = add(h, linear(gated, await w(`${p}mlp.down_proj.weight`), await maybe(`${p}mlp.down_proj.bias`, mlpBias)));
  }
  h = rmsNorm(h, await w('norm.weight'), eps);
  return linear(h, await outputHead(config, weights, tokens, false));
}
