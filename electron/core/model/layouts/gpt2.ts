// GPT-2 stores its linear layers as Conv1D, i.e. [in, out], and fuses q|k|v in c_attn along the
// output dimension.
import type { FamilyLayout, PlannedTensor } from './types.js';
import { withBias } from './types.js';

export const gpt2Layout: FamilyLayout = {
  prefixes: ['', 'transformer.'],
  probe: 'wte.weight',
  buffers: /^h\.\d+\.attn\.(bias|masked_bias)$/,
  tensors(c) {
    const e = c.hiddenSize;
    const out: PlannedTensor[] = [
      { canonical: 'embed.tokens', hfName: 'wte.weight', shape: [c.vocabSize, e] },
      { canonical: 'embed.positions', hfName: 'wpe.weight', shape: [c.maxPositions, e] },
    ];
    for (let i = 0; i < c.numLayers; i++) {
      const hf = `h.${i}`;
      const l = `layers.${i}`;
      out.push(...withBias(`${l}.attn_norm`, `${hf}.ln_1`, [e], [e], true));
      ['q', 'k', 'v'].forEach((name, index) => {
        const split = { index, parts: 3 };
        const c = `${l}.attn.${name}`;
        out.push(
          { canonical: `${c}.weight`, hfName: `${hf}.attn.c_attn.weight`, shape: [e, 3 * e], transposed: true, split },
          { canonical: `${c}.bias`, hfName: `${hf}.attn.c_attn.bias`, shape: [3 * e], split },
        );
      });
      out.push(
        ...withBias(`${l}.attn.o`, `${hf}.attn.c_proj`, [e, e], [e], true, { transposed: true }),
        ...withBias(`${l}.ffn_norm`, `${hf}.ln_2`, [e], [e], true),
        ...withBias(`${l}.ffn.up`, `${hf}.mlp.c_fc`, [e, c.ffnSize], [c.ffnSize], true, { transposed: true }),
        ...withBias(`${l}.ffn.down`, `${hf}.mlp.c_proj`, [c.ffnSize, e], [e], true, { transposed: true }),
      );
    }
    out.push(...withBias('final_norm', 'ln_f', [e], [e], true));
    return out;
  },
};
