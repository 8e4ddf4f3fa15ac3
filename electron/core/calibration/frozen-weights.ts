// Calibration never changes the weights: the output folder gets the stage-1 model's tensors back,
// read here in the engine's canonical layout (transposed back, fused tensors split) for
// writeDerivedModel, exactly as the engine loads them.
import type { NativeTensorRef } from '../../../native/index.js';
import { decodeFloats } from '../model/dtype.js';
import type { OpenedModelFolder } from '../model/folder.js';
import { readTensorBytes } from '../model/safetensors.js';

/** Every canonical tensor of the folder, as F32. */
export async function readCanonicalTensors(folder: OpenedModelFolder): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, ref] of Object.entries(folder.spec.tensors)) out.set(name, canonical(ref, decodeFloats(await readTensorBytes(ref), ref.dtype)));
  return out;
}

/** Stored values -> canonical [out, in]: transpose when stored [in, out], then take the split's rows. */
function canonical(ref: NativeTensorRef, stored: Float32Array): Float32Array {
  let values = stored;
  let rows = ref.shape[0] ?? 1;
  if (ref.transposed) {
    const [inDim, outDim] = ref.shape as [number, number];
    values = new Float32Array(stored.length);
    for (let i = 0; i < inDim; i++) for (let o = 0; o < outDim; o++) values[o * inDim + i] = stored[i * outDim + o]!;
    rows = outDim;
  }
  if (!ref.split) return values;
  const perRow = values.length / rows;
  const part = rows / ref.split.parts;
  return values.slice(ref.split.index * part * perRow, (ref.split.index + 1) * part * perRow);
}
