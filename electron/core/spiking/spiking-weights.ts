// spiking.safetensors (fas-method.md sections 7 and 9).
// Scope "ffn": per layer i, `layers.{i}.qcfs.lambda` [1], and after calibration
// `layers.{i}.neuron.threshold` and `layers.{i}.neuron.v0`, each [1] (per layer), [d_ff] (per
// neuron) or [positions, d_ff] (per position and neuron).
// Scope "all": per layer i, one threshold per channel at every input of a matrix product,
// `layers.{i}.{attn_in,q,v,attn_out,ffn_in}.lambda`, `layers.{i}.qcfs.lambda` ([1] or [d_ff]), and
// `head_in.lambda`. Their widths: attn_in, ffn_in and head_in the hidden size, q and attn_out the
// query width (heads x head size), v the key/value width (which is smaller under grouped-query
// attention); every one of them equals the hidden size in a model without it.
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

/** The sites of scope "all" inside a layer besides the FFN one, in the order a layer runs them. */
export const LAYER_SITES = ['attn_in', 'q', 'v', 'attn_out', 'ffn_in'] as const;
export type LayerSite = (typeof LAYER_SITES)[number];

/** One layer's thresholds in scope "all": a vector per site, and the FFN site's ([1] or [d_ff]). */
export type LayerSiteLambdas = Record<LayerSite | 'qcfs', Float32Array>;

export interface AllScopeWeights {
  layers: LayerSiteLambdas[];
  headIn: Float32Array;
}

/** The widths a scope "all" file is checked against (the model spec's). */
export interface SiteDims {
  numLayers: number;
  hiddenSize: number;
  ffnSize: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
}

/** The expected length of each layer site's threshold vector. */
export function layerSiteWidths(d: SiteDims): Record<LayerSite, number> {
  const q = d.numHeads * d.headDim;
  return { attn_in: d.hiddenSize, q, v: d.numKvHeads * d.headDim, attn_out: q, ffn_in: d.hiddenSize };
}

export function isAllScope(weights: SpikingWeights | AllScopeWeights): weights is AllScopeWeights {
  return 'headIn' in weights;
}

export function spikingTensors(weights: SpikingWeights | AllScopeWeights): Record<string, WritableTensor> {
  const out: Record<string, WritableTensor> = {};
  const vector = (data: Float32Array): WritableTensor => ({ dtype: 'F32', shape: [data.length], data });
  if (isAllScope(weights)) {
    weights.layers.forEach((layer, i) => {
      for (const site of [...LAYER_SITES, 'qcfs'] as const) out[`layers.${i}.${site}.lambda`] = vector(layer[site]);
    });
    out['head_in.lambda'] = vector(weights.headIn);
    return out;
  }
  weights.lambdas.forEach((lambda, i) => {
    out[`layers.${i}.qcfs.lambda`] = { dtype: 'F32', shape: [1], data: Float32Array.of(lambda) };
  });
  weights.neurons?.forEach((n, i) => {
    out[`layers.${i}.neuron.threshold`] = { dtype: 'F32', shape: n.shape, data: n.threshold };
    out[`layers.${i}.neuron.v0`] = { dtype: 'F32', shape: n.shape, data: n.v0 };
  });
  return out;
}

/** The tensors of spiking.safetensors, each read on demand and checked to hold finite floats. */
async function openTensors(
  dir: string,
): Promise<{ values: (name: string) => Promise<{ data: Float32Array; shape: number[] }>; bad: (message: string) => never }> {
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
  return { values, bad };
}

/** Reads and checks a scope "all" spiking.safetensors against the model's widths. */
export async function readAllScopeWeights(dir: string, dims: SiteDims): Promise<AllScopeWeights> {
  const { values, bad } = await openTensors(dir);
  const thresholds = async (name: string, widths: number[]): Promise<Float32Array> => {
    const { data, shape } = await values(name);
    if (shape.length !== 1 || !widths.includes(shape[0]!)) bad(`${name} has shape [${shape}], expected ${widths.map((w) => `[${w}]`).join(' or ')}.`);
    const low = data.findIndex((v) => v <= 0);
    if (low >= 0) bad(`${name}[${low}] is ${data[low]}; thresholds must be positive.`);
    return data;
  };
  const widths = layerSiteWidths(dims);
  const layers: LayerSiteLambdas[] = [];
  for (let i = 0; i < dims.numLayers; i++) {
    const layer = {} as LayerSiteLambdas;
    for (const site of LAYER_SITES) layer[site] = await thresholds(`layers.${i}.${site}.lambda`, [widths[site]]);
    layer.qcfs = await thresholds(`layers.${i}.qcfs.lambda`, [1, dims.ffnSize]);
    layers.push(layer);
  }
  return { layers, headIn: await thresholds('head_in.lambda', [dims.hiddenSize]) };
}

/** Reads and checks a scope "ffn" spiking.safetensors against the model's layer count and FFN width. */
export async function readSpikingWeights(dir: string, numLayers: number, ffnSize: number, calibrated: boolean): Promise<SpikingWeights> {
  const { values, bad } = await openTensors(dir);
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
