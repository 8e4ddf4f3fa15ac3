// The sizes of a model that decide how much memory a job on it needs, read from the engine spec.
import type { NativeModelSpec } from '../../../native/index.js';
import { DTYPE_BYTES } from '../model/dtype.js';

export interface ModelShape {
  /** Parameters the engine holds (a tied head counted once). */
  parameters: number;
  /**
   * Their bytes as the engine keeps them to run the model (chat, evaluation, calibration's teacher):
   * matrices in the checkpoint's dtype (F16 and BF16 in 2 bytes), vectors in F32
   * (native/src/engine/model/loader.cpp). Training keeps 4 bytes per parameter whatever the file.
   */
  weightBytes: number;
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

/** Bytes of the canonical tensors as the loader keeps them: a 2-D tensor in its dtype, a 1-D one in F32. */
export function engineWeightBytes(spec: NativeModelSpec): number {
  let bytes = 0;
  for (const ref of Object.values(spec.tensors)) {
    const elements = ref.shape.reduce((a, b) => a * b, 1) / (ref.split?.parts ?? 1);
    bytes += elements * (ref.shape.length === 2 ? DTYPE_BYTES[ref.dtype] : DTYPE_BYTES.F32);
  }
  return bytes;
}

export function modelShape(spec: NativeModelSpec, parameters: number): ModelShape {
  return {
    parameters,
    weightBytes: engineWeightBytes(spec),
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
