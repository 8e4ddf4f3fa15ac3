// What the app shows about a model before loading it: size, precision, memory it will need.
import type { ModelSummary } from '../../api/contract.js';
import type { NativeDType, NativeModelSpec } from '../../../native/index.js';
import { engineWeightBytes } from '../estimate/model-shape.js';
import type { ModelConfig, ModelType } from './config.js';

export type { ModelSummary };

const ARCHITECTURE_NAMES: Record<ModelType, string> = { gpt2: 'GPT-2', opt: 'OPT', llama: 'LLaMA', qwen2: 'Qwen2' };

export function summarizeModel(config: ModelConfig, spec: NativeModelSpec): ModelSummary {
  // Fused tensors (GPT-2 c_attn) appear once per part; count each stored tensor once.
  const stored = new Map<string, { count: number; bytes: number; dtype: NativeDType }>();
  for (const ref of Object.values(spec.tensors)) {
    const count = ref.shape.reduce((a, b) => a * b, 1);
    stored.set(`${ref.file}:${ref.offset}`, { count, bytes: ref.byteLength, dtype: ref.dtype });
  }
  let parameterCount = 0;
  let weightBytes = 0;
  const dtypes = new Set<NativeDType>();
  for (const { count, bytes, dtype } of stored.values()) {
    parameterCount += count;
    weightBytes += bytes;
    dtypes.add(dtype);
  }
  const kvCacheBytes = 2 * spec.numLayers * spec.numKvHeads * spec.headDim * spec.maxPositions * 4;
  return {
    architecture: ARCHITECTURE_NAMES[config.modelType],
    modelType: config.modelType,
    parameterCount,
    layers: spec.numLayers,
    hiddenSize: spec.hiddenSize,
    vocabSize: spec.vocabSize,
    maxPositions: spec.maxPositions,
    dtypes: [...dtypes].sort(),
    weightBytes,
    estimatedRunBytes: engineWeightBytes(spec) + kvCacheBytes + spec.vocabSize * 4,
  };
}
