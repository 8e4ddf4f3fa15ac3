// The sizes of a model that decide how much memory a job on it needs, read from the engine spec.
import type { NativeModelSpec } from '../../../native/index.js';

export interface ModelShape {
  /** Parameters the engine holds (a tied head counted once). */
  parameters: number;
  layers: number;
  hidden: number;
  /** Query width: heads x head size. */
  qDim: number;
  /** Key and value width: key/value heads x head size (smaller than qDim with grouped-query attention). */
  kvDim: number;
  ffn: number;
  vocab: number;
  /** Token embedding width; differs from `hidden` only with project_in/out (OPT-350m). */
  wordEmbed: number;
  /** false for post-LayerNorm blocks (OPT-350m). */
  preNorm: boolean;
  /** LLaMA family: down(silu(gate) * up), one more ffn-wide tensor per layer. */
  gated: boolean;
  finalNorm: boolean;
  /** project_in / project_out around the blocks. */
  embedProjection: boolean;
}

export function modelShape(spec: NativeModelSpec, parameters: number): ModelShape {
  return {
    parameters,
    layers: spec.numLayers,
    hidden: spec.hiddenSize,
    qDim: spec.numHeads * spec.headDim,
    kvDim: spec.numKvHeads * spec.headDim,
    ffn: spec.ffnSize,
    vocab: spec.vocabSize,
    wordEmbed: spec.wordEmbedDim,
    preNorm: spec.preNorm,
    gated: spec.activation === 'silu_gated',
    finalNorm: 'final_norm.weight' in spec.tensors,
    embedProjection: 'embed.project_in' in spec.tensors,
  };
}
