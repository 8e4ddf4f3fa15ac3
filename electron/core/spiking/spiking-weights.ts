// spiking.safetensors (fas-method.md section 7): per layer i, `layers.{i}.qcfs.lambda` [1], and
// after calibration `layers.{i}.neuron.threshold` and `layers.{i}.neuron.v0`, each [1] (per layer),
// [d_ff] (per neuron) or [positions, d_ff] (per position and neuron).
import { join } from 'node:path';
import { ModelFolderError } from '../model/errors.js';
import { decodeFloats } from '../model/dtype.js';
import { readSafetensorsHeader, readTensorBytes, type WritableTensor } from '../model/safetensors.js';
import { SPIKING_WEIGHTS_FILE } from './spiking-config.js';

export interface NeuronParams {
  threshold: Float32Array;
  v0: Float32Array;
  /** [1], [ffn] or [positions, ffn]; threshold and v0 share it. */
  shape: number[];
}

export interface SpikingWeights {
  /** QCFS threshold lambda of each layer. */
  lambdas: Float32Array;
  /** Calibrated neurons per layer, or null before stage 2. */
  neurons: NeuronParams[] | null;
}

export function spikingTensors(weights: SpikingWeights): Record<string, WritableTensor> {
  const out: Record<string, WritableTensor> = {};
  weights.lambdas.forEach((lambda, i) => {
    out[`layers.${i}.qcfs.lambda`] = { dtype: 'F32', shape: [1], data: Float32Array.of(lambda) };
  });
  weights.neurons?.forEach((n, i) => {
    out[`layers.${i}.neuron.threshold`] = { dtype: 'F32', shape: n.shape, data: n.threshold };
    out[`layers.${i}.neuron.v0`] = { dtype: 'F32', shape: n.shape, data: n.v0 };
  });
  return out;
}

/** Reads and checks spiking.safetensors against the model's layer count and FFN width. */
export async function readSpikingWeights(dir: string, numLayers: number, ffnSize: number, calibrated: boolean): Promise<SpikingWeights> {
  const file = join(dir, SPIKING_WEIGHTS_FILE);
  const header = await readSafetensorsHeader(file).catch((err: Error) => {
    throw new ModelFolderError('corrupt-weights', `${file} is missing or damaged: ${err.message}`);
  });
  const bad = (message: string): never => {
    throw new ModelFolderError('tensor-mismatch', `${file}: ${message}`);
  };
  const values = async (name: string): Promise<{ data: Float32Array; shape: number[] }> => {
    const t = header.tensors.get(name) ?? bad(`tensor "${name}" is missing.`);
    if (t.dtype !== 'F32' && t.dtype !== 'F16' && t.dtype !== 'BF16') bad(`tensor "${name}" has dtype ${t.dtype}, not a float type.`);
    const data = decodeFloats(await readTensorBytes(t), t.dtype as 'F32' | 'F16' | 'BF16');
    if (!data.every((v) => Number.isFinite(v))) bad(`tensor "${name}" holds NaN or infinite values.`);
    return { data, shape: t.shape };
  };
  const lambdas = new Float32Array(numLayers);
  for (let i = 0; i < numLayers; i++) {
    const { data, shape } = await values(`layers.${i}.qcfs.lambda`);
    if (shape.length !== 1 || shape[0] !== 1) bad(`layers.${i}.qcfs.lambda has shape [${shape}], expected [1].`);
    if (data[0]! <= 0) bad(`layers.${i}.qcfs.lambda is ${data[0]}; thresholds must be positive.`);
    lambdas[i] = data[0]!;
  }
  if (!calibrated) return { lambdas, neurons: null };
  const neurons: NeuronParams[] = [];
  for (let i = 0; i < numLayers; i++) {
    const threshold = await values(`layers.${i}.neuron.threshold`);
    const v0 = await values(`layers.${i}.neuron.v0`);
    const shape = threshold.shape;
    const ok = (shape.length === 1 && (shape[0] === 1 || shape[0] === ffnSize)) || (shape.length === 2 && shape[0]! >= 1 && shape[1] === ffnSize);
    if (!ok) bad(`layers.${i}.neuron.threshold has shape [${shape}]; expected [1], [${ffnSize}] or [positions, ${ffnSize}].`);
    if (v0.shape.join() !== shape.join()) bad(`layers.${i}.neuron.v0 has shape [${v0.shape}], unlike its threshold [${shape}].`);
    if (threshold.data.some((v) => v <= 0)) bad(`layers.${i}.neuron.threshold has values <= 0; thresholds must be positive.`);
    neurons.push({ threshold: threshold.data, v0: v0.data, shape });
  }
  return { lambdas, neurons };
}
