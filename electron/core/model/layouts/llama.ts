// LLaMA family (LLaMA, SmolLM, TinyLlama, Qwen2): nn.Linear layers, RMSNorm (no bias), SwiGLU.
import type { FamilyLayout, PlannedTensor } from './types.js';
import { withBias } from './types.js';

export const llamaLayout: FamilyLayout = {
  prefixes: ['model.', ''],
  probe: 'embed_tokens.weight',
  buffers: /(^|\.)rotary_emb\.inv_freq$/,
  tensors(c) {
    const h = c.hiddenSize;
    const q = c.numHeads * c.headDim;
    const kv = c.numKvHeads * c.headDim;
    const f = c.ffnSize;
    const b = c.bias;
    const out: PlannedTensor[] = [{ canonical: 'embed.tokens', hfName: 'embed_tokens.weight', shape: [c.vocabSize, h] }];
    for (let i = 0; i < c.numLayers; i++) {
      const hf = `layers.${i}`;
      const l = `layers.${i}`;
      out.push(
        ...withBias(`${l}.attn_norm`, `${hf}.input_layernorm`, [h], [h], false),
        ...withBias(`${l}.attn.q`, `${hf}.self_attn.q_proj`, [q, h], [q], b.qkv),
        ...withBias(`${l}.attn.k`, `${hf}.self_attn.k_proj`, [kv, h], [kv], b.qkv),
        ...withBias(`${l}.attn.v`, `${hf}.self_attn.v_proj`, [kv, h], [kv], b.qkv),
        ...withBias(`${l}.attn.o`, `${hf}.self_attn.o_proj`, [h, q], [h], b.o),
        ...withBias(`${l}.ffn_norm`, `${hf}.post_attention_layernorm`, [h], [h], false),
        ...withBias(`${l}.ffn.gate`, `${hf}.mlp.gate_proj`, [f, h], [f], b.ffn),
        ...withBias(`${l}.ffn.up`, `${hf}.mlp.up_proj`, [f, h], [f], b.ffn),
        ...withBias(`${l}.ffn.down`, `${hf}.mlp.down_proj`, [h, f], [h], b.ffn),
      );
    }
    out.push(...withBias('final_norm', 'norm', [h], [h], false));
    return out;
  },
};
