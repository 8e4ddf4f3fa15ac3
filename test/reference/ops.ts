// Float64 building blocks, written for clarity rather than speed. A Mat is row-major [rows, cols]:
// one row per token position.
import type { Tensor64 } from './weights.js';

export interface Mat {
  rows: number;
  cols: number;
  data: Float64Array;
}

export function zeros(rows: number, cols: number): Mat {
  return { rows, cols, data: new Float64Array(rows * cols) };
}

export function row(m: Mat, r: number): Float64Array {
  return m.data.subarray(r * m.cols, (r + 1) * m.cols);
}

/** Rows of an embedding table [vocab, dim]. */
export function embed(table: Tensor64, ids: readonly number[]): Mat {
  const dim = table.shape[1];
  const out = zeros(ids.length, dim);
  ids.forEach((id, r) => out.data.set(table.data.subarray(id * dim, (id + 1) * dim), r * dim));
  return out;
}

export function add(a: Mat, b: Mat): Mat {
  return { ...a, data: a.data.map((x, i) => x + b.data[i]) };
}

/** nn.Linear: y = x W^T + b with W stored [out, in]. */
export function linear(x: Mat, w: Tensor64, b?: Tensor64): Mat {
  const [outDim, inDim] = w.shape;
  const y = zeros(x.rows, outDim);
  for (let r = 0; r < x.rows; r++) {
    const xr = row(x, r);
    for (let o = 0; o < outDim; o++) {
      let sum = b ? b.data[o] : 0;
      for (let i = 0; i < inDim; i++) sum += xr[i] * w.data[o * inDim + i];
      y.data[r * outDim + o] = sum;
    }
  }
  return y;
}

/** GPT-2's Conv1D: y = x W + b with W stored [in, out]. */
export function conv1d(x: Mat, w: Tensor64, b: Tensor64): Mat {
  const [inDim, outDim] = w.shape;
  const y = zeros(x.rows, outDim);
  for (let r = 0; r < x.rows; r++) {
    const xr = row(x, r);
    for (let o = 0; o < outDim; o++) {
      let sum = b.data[o];
      for (let i = 0; i < inDim; i++) sum += xr[i] * w.data[i * outDim + o];
      y.data[r * outDim + o] = sum;
    }
  }
  return y;
}

/** Columns [start, end) of every row. */
export function columns(m: Mat, start: number, end: number): Mat {
  const out = zeros(m.rows, end - start);
  for (let r = 0; r < m.rows; r++) out.data.set(m.data.subarray(r * m.cols + start, r * m.cols + end), r * out.cols);
  return out;
}

export function map(m: Mat, f: (x: number) => number): Mat {
  return { ...m, data: m.data.map(f) };
}

export function multiply(a: Mat, b: Mat): Mat {
  return { ...a, data: a.data.map((x, i) => x * b.data[i]) };
}

export function layerNorm(x: Mat, w: Tensor64, b: Tensor64, eps: number): Mat {
  const y = zeros(x.rows, x.cols);
  for (let r = 0; r < x.rows; r++) {
    const xr = row(x, r);
    const mean = xr.reduce((s, v) => s + v, 0) / x.cols;
    const variance = xr.reduce((s, v) => s + (v - mean) ** 2, 0) / x.cols;
    const inv = 1 / Math.sqrt(variance + eps);
    for (let c = 0; c < x.cols; c++) y.data[r * x.cols + c] = (xr[c] - mean) * inv * w.data[c] + b.data[c];
  }
  return y;
}

export function rmsNorm(x: Mat, w: Tensor64, eps: number): Mat {
  const y = zeros(x.rows, x.cols);
  for (let r = 0; r < x.rows; r++) {
    const xr = row(x, r);
    const inv = 1 / Math.sqrt(xr.reduce((s, v) => s + v * v, 0) / x.cols + eps);
    for (let c = 0; c < x.cols; c++) y.data[r * x.cols + c] = xr[c] * inv * w.data[c];
  }
  return y;
}

export const geluNew = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
export const relu = (x: number) => Math.max(0, x);
export const silu = (x: number) => x / (1 + Math.exp(-x));

/**
 * Rotary embedding, rotate-half convention (transformers' apply_rotary_pos_emb): within each head,
 * x * cos + rotate_half(x) * sin, where rotate_half(x) = [-x2, x1] and frequency j serves both
 * x[j] and x[j + d/2]. Row r is position r.
 */
export function rope(x: Mat, heads: number, headDim: number, theta: number): Mat {
  const y = zeros(x.rows, x.cols);
  const half = headDim / 2;
  for (let pos = 0; pos < x.rows; pos++) {
    for (let h = 0; h < heads; h++) {
      const base = pos * x.cols + h * headDim;
      for (let j = 0; j < half; j++) {
        const angle = pos / theta ** ((2 * j) / headDim);
        const cos = Math.cos(angle);
        const sin = Math.sin(angle);
        const x1 = x.data[base + j];
        const x2 = x.data[base + j + half];
        y.data[base + j] = x1 * cos - x2 * sin;
        y.data[base + j + half] = x2 * cos + x1 * sin;
      }
    }
  }
  return y;
}

/** Causal softmax attention; query head h reads key/value head floor(h / (heads / kvHeads)). */
export function causalAttention(q: Mat, k: Mat, v: Mat, heads: number, kvHeads: number, headDim: number, scale: number): Mat {
  const out = zeros(q.rows, heads * headDim);
  const group = heads / kvHeads;
  for (let h = 0; h < heads; h++) {
    const kv = Math.floor(h / group);
    for (let i = 0; i < q.rows; i++) {
      const scores = new Float64Array(i + 1);
      for (let j = 0; j <= i; j++) {
        let dot = 0;
        for (let d = 0; d < headDim; d++) dot += q.data[i * q.cols + h * headDim + d] * k.data[j * k.cols + kv * headDim + d];
        scores[j] = dot * scale;
      }
      const max = Math.max(...scores);
      const weights = scores.map((s) => Math.exp(s - max));
      const total = weights.reduce((s, w) => s + w, 0);
      for (let j = 0; j <= i; j++) {
        for (let d = 0; d < headDim; d++) {
          out.data[i * out.cols + h * headDim + d] += (weights[j] / total) * v.data[j * v.cols + kv * headDim + d];
        }
      }
    }
  }
  return out;
}
