// OPT: plain nn.Linear layers ([out, in]); OPT-350m adds project_in/out around a narrower
// token embedding and puts its layer norms after each block.
import type { FamilyLayout, PlannedTensor } from './types.js';
import { withBias } from './types.js';

export const optLayout: FamilyLayout = {
  prefixes: ['model.decoder.', 'decoder.'],
  probe: 'embed_tokens.weight',
  buffers: null, // OPT checkpoints store no buffers
  tensors(c) {
    const h = c.hiddenSize;
    const b = c.bias;
    const out: PlannedTensor[] = [
      { canonical: 'embed.tokens', hfName: 'embed_tokens.weight', shape: [c.vocabSize, c.wordEmbedDim] },
      { canonical: 'embed.positions', hfName: 'embed_positions.weight', shape: [c.maxPositions + c.positionOffset, h] },
    ];
    if (c.hasEmbedProjection) {
      out.push(
        { canonical: 'embed.project_in', hfName: 'project_in.weight', shape: [h, c.wordEmbedDim] },
        { canonical: 'head.project_out', hfName: 'project_out.weight', shape: [c.wordEmbedDim, h] },
      );
    }
    for (let i = 0; i < c.numLayers; i++) {
      const hf = `layers.${i}`;
      const l = `layers.${i}`;
      out.push(
        ...withBias(`${l}.attn_norm`, `${hf}.self_attn_layer_norm`, [h], [h], b.norm),
        ...withBias(`${l}.attn.q`, `${hf}.self_attn.q_proj`, [h, h], [h], b.qkv),
        ...withBias(`${l}.attn.k`, `${hf}.self_attn.k_proj`, [h, h], [h], b.qkv),
        ...withBias(`${l}.attn.v`, `${hf}.self_attn.v_proj`, [h, h], [h], b.qkv),
        ...withBias(`${l}.attn.o`, `${hf}.self_attn.out_proj`, [h, h], [h], b.o),
        // In OPT layers "final_layer_norm" is the norm in front of the feed-forward block.
        ...withBias(`${l}.ffn_norm`, `${hf}.final_layer_norm`, [h], [h], b.norm),
        ...withBias(`${l}.ffn.up`, `${hf}.fc1`, [c.ffnSize, h], [c.ffnSize], b.ffn),
        ...withBias(`${l}.ffn.down`, `${hf}.fc2`, [h, c.ffnSize], [h], b.ffn),
      );
    }
    if (c.hasFinalNorm) out.push(...withBias('final_norm', 'final_layer_norm', [h], [h], b.norm));
    return out;
  },
};
