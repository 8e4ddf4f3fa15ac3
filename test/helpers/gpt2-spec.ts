// The native spec of a small GPT-2 built by hand (no model folder): for the binding tests that hand
// the engine their own tensors.
import type { NativeModelSpec, NativeTensorRef } from '../../native/index.js';

export interface Gpt2Dims {
  vocab: number;
  hidden: number;
  heads: number;
  layers: number;
  ffn: number;
  positions: number;
}

export function gpt2Spec(d: Gpt2Dims, tensors: Record<string, NativeTensorRef>): NativeModelSpec {
  return {
    family: 'gpt2',
    vocabSize: d.vocab,
    hiddenSize: d.hidden,
    numLayers: d.layers,
    numHeads: d.heads,
    numKvHeads: d.heads,
    headDim: d.hidden / d.heads,
    ffnSize: d.ffn,
    maxPositions: d.positions,
    positionOffset: 0,
    norm: 'layernorm',
    normEps: 1e-5,
    activation: 'gelu_new',
    positions: 'learned',
    ropeTheta: 10000,
    preNorm: true,
    wordEmbedDim: d.hidden,
    tiedHead: true,
    tensors,
  };
}
