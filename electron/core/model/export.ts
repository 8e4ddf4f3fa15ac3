// The engine's canonical tensors -> Hugging Face tensors, the inverse of mapping.ts: transposes
// back to GPT-2's Conv1D layout and re-fuses split tensors, so a trained or converted model is
// written as an ordinary folder that transformers (and this app) can load.
import type { ModelConfig } from './config.js';
import { familyLayout, HEAD } from './mapping.js';
import type { PlannedTensor } from './layouts/types.js';
import type { WritableTensor } from './safetensors.js';

export interface ExportLayout {
  /** Tensor-name prefix of the family's checkpoints (e.g. "model."), usually the source folder's. */
  prefix: string;
  tiedHead: boolean;
}

/** Builds every Hugging Face tensor from canonical ones, read by name through `read`. */
export function hfTensorsFromCanonical(config: ModelConfig, layout: ExportLayout, read: (canonical: string) => Float32Array): Record<string, WritableTensor> {
  const groups = new Map<string, PlannedTensor[]>();
  for (const planned of familyLayout(config.family).tensors(config)) {
    const group = groups.get(planned.hfName) ?? [];
    group.push(planned);
    groups.set(planned.hfName, group);
  }
  const out: Record<string, WritableTensor> = {};
  for (const [hfName, parts] of groups) {
    out[layout.prefix + hfName] = { dtype: 'F32', shape: parts[0]!.shape, data: storedValues(parts, read) };
  }
  if (!layout.tiedHead) out[HEAD] = { dtype: 'F32', shape: [config.vocabSize, config.wordEmbedDim], data: read('head.weight') };
  return out;
}

/** Split parts are concatenated along the output dimension, then the whole is transposed if stored [in, out]. */
function storedValues(parts: PlannedTensor[], read: (canonical: string) => Float32Array): Float32Array {
  const ordered = [...parts].sort((a, b) => (a.split?.index ?? 0) - (b.split?.index ?? 0));
  const canonical = concat(ordered.map((p) => read(p.canonical)));
  const planned = parts[0]!;
  if (!planned.transposed) return canonical;
  const [rows, cols] = planned.shape as [number, number]; // stored [in, out]
  const stored = new Float32Array(rows * cols);
  for (let o = 0; o < cols; o++) for (let i = 0; i < rows; i++) stored[i * cols + o] = canonical[o * rows + i]!;
  return stored;
}

function concat(arrays: Float32Array[]): Float32Array {
  if (arrays.length === 1) return arrays[0]!;
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let offset = 0;
  for (const a of arrays) {
    out.set(a, offset);
    offset += a.length;
  }
  return out;
}
