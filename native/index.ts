// The whole native surface, typed in one place. Everything the C++ addon exports is declared here;
// the rest of the app imports the addon only through this module.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface SimdFeatures {
  avx2: boolean;
  avx512: boolean;
  fma: boolean;
  neon: boolean;
}

export interface CudaStatus {
  /** The addon was compiled with the CUDA backend. */
  built: boolean;
  /** A CUDA device answered; when false, `reason` says why. */
  usable: boolean;
  deviceCount: number;
  deviceName: string;
  runtimeVersion: string;
  reason: string;
}

export interface NativeHardware {
  arch: string;
  cpuModel: string;
  physicalCores: number;
  logicalCores: number;
  simd: SimdFeatures;
  cuda: CudaStatus;
}

// ---- Models ---------------------------------------------------------------------------------
// The TypeScript loader (electron/core/model) reads and validates a Hugging Face folder and hands
// the engine a NativeModelSpec: family-neutral hyper-parameters plus every tensor under a canonical
// name, as a reference into a safetensors file. The engine memory-maps the files and converts only
// what needs converting (F16/BF16 to F32, [in, out] layouts, slices of fused tensors).

export type ModelFamily = 'gpt2' | 'opt' | 'llama';
export type NativeDType = 'F32' | 'F16' | 'BF16';

export interface NativeTensorRef {
  /** Absolute path of the .safetensors file. */
  file: string;
  /** Absolute byte offset of the tensor's data in the file (header already accounted for). */
  offset: number;
  byteLength: number;
  dtype: NativeDType;
  /** Shape as stored in the file. */
  shape: number[];
  /** Stored as [in, out] (GPT-2 Conv1D): transpose to the canonical [out, in]. */
  transposed?: boolean;
  /** A slice along the output dimension of a fused tensor (GPT-2 c_attn): part `index` of `parts`. */
  split?: { index: number; parts: number };
}

/**
 * Canonical tensor names (shapes are canonical, after transpose/split; linear weights are [out, in]):
 *   embed.tokens [vocab, wordEmbedDim]           embed.positions [rows, hidden] (gpt2, opt)
 *   embed.project_in [hidden, wordEmbedDim]      head.project_out [wordEmbedDim, hidden] (OPT-350m)
 *   layers.{i}.attn_norm.{weight,bias}           layers.{i}.ffn_norm.{weight,bias}
 *   layers.{i}.attn.{q,k,v}.{weight,bias}        q: [heads*headDim, hidden], k/v: [kvHeads*headDim, hidden]
 *   layers.{i}.attn.o.{weight,bias}              [hidden, heads*headDim]
 *   layers.{i}.ffn.up.{weight,bias}              [ffn, hidden] (gpt2 c_fc, opt fc1, llama up_proj)
 *   layers.{i}.ffn.gate.weight                   [ffn, hidden] (llama only)
 *   layers.{i}.ffn.down.{weight,bias}            [hidden, ffn]
 *   final_norm.{weight,bias}                     head.weight [vocab, wordEmbedDim] (absent when tied)
 * Biases and norm biases are present only where the family has them (RMSNorm has no bias).
 */
export interface NativeModelSpec {
  family: ModelFamily;
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  ffnSize: number;
  /** Longest sequence the model accepts. */
  maxPositions: number;
  /** Added to a position before indexing embed.positions (OPT: 2, GPT-2: 0). */
  positionOffset: number;
  /** 'layernorm' (gpt2, opt) or 'rmsnorm' (llama). */
  norm: 'layernorm' | 'rmsnorm';
  normEps: number;
  /** 'gelu_new' (gpt2), 'relu' (opt), 'silu_gated' (llama: down(silu(gate) * up)). */
  activation: 'gelu_new' | 'relu' | 'silu_gated';
  /** 'learned' (gpt2, opt) or 'rope' (llama, rotate-half convention). */
  positions: 'learned' | 'rope';
  ropeTheta: number;
  /** false for OPT-350m style post-LayerNorm blocks. */
  preNorm: boolean;
  /** Token embedding width; differs from hiddenSize only with project_in/out. */
  wordEmbedDim: number;
  tiedHead: boolean;
  tensors: Record<string, NativeTensorRef>;
}

export interface NativeAddon {
  hardware(): NativeHardware;
}

/** Where the built addon lives: native/build/Release, found from the source tree or from dist/. */
function addonPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    join(here, 'build', 'Release', 'fas_native.node'), // running from native/ (tests via vitest)
    join(here, '..', '..', 'native', 'build', 'Release', 'fas_native.node'), // running from dist/native/
  ].map((p) => p.replace(`app.asar${'/'}`, 'app.asar.unpacked/'));
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      `The native engine is not built (looked for ${candidates.join(', ')}). Run "npm run build:native".`,
    );
  }
  return found;
}

let cached: NativeAddon | undefined;

/** Loads the addon once. Throws a clear error when it has not been built. */
export function loadNative(): NativeAddon {
  cached ??= createRequire(import.meta.url)(addonPath()) as NativeAddon;
  return cached;
}
