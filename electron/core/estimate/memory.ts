// How much memory a job will need, part by part, before it starts. The engine keeps every tensor as
// float32 (4 bytes), and the formulas count the buffers it really allocates, with n = batch x block
// tokens:
//   train, finetune  native/src/train: parameters, their gradients and AdamW's two moments
//                    (trainer.h); per token, what Transformer keeps for backward and the buffers its
//                    backward works in (transformer.h); logits [n, vocab], whose gradient reuses them.
//                    Attention keeps q, k and v, never the batch x heads x block^2 probabilities: its
//                    backward recomputes them.
//   chat             native/src/engine/runtime: weights, the key/value cache of `block` positions and
//                    the work buffers of one forward over the whole context (the worst prefill).
//                    A spiking model runs its T timesteps as a batch dimension and keeps one
//                    key/value cache per timestep (fas-method.md section 3), so both grow T times.
//   calibrate        fas-method.md section 4: frozen weights shared by the QCFS teacher and the
//                    spiking student, a threshold and an initial potential per neuron (trained with
//                    Adam), the student's training activations over T timesteps plus each neuron's
//                    membrane potential at every timestep (for the surrogate gradient), the teacher's
//                    QCFS outputs (the activation-align targets), and three sets of logits.
// Left out, being small or short-lived: a few bytes per token of ids, targets and masks; the
// attention backward's per-thread scratch (2 x 64 x block floats per thread); the app itself; the
// moment when the trainer copies the freshly loaded model into its parameters.
import type { MemoryJob, MemoryPart, MemoryVerdict } from '../../api/contract.js';
import { formatBytes } from '../../shared/format.js';
import type { ModelShape } from './model-shape.js';

export const FLOAT_BYTES = 4;
/** Up to this share of the free memory is a comfortable fit; beyond it, up to all of it, is tight. */
export const COMFORTABLE_SHARE = 0.75;

export interface MemoryRequest {
  job: MemoryJob;
  batchSize: number;
  blockSize: number;
  /** Timesteps of a spiking job (calibrate, chat with a spiking model); 1 for everything else. */
  timesteps: number;
}

/** Floats Transformer keeps per token for backward: every layer's tensors, the residual stream, the head's. */
export function keptPerToken(s: ModelShape, qcfsSite: boolean): number {
  const perLayer =
    (s.preNorm ? s.hidden : 0) + // attn_norm output (post-norm blocks read the layer input itself)
    s.qDim + 2 * s.kvDim + // q, k, v
    s.qDim + // attention output, the input of o
    2 * s.hidden + // in + o(ctx); the ffn's normalised input
    (s.gated ? 2 : 1) * s.ffn + // up (and gate)
    (s.gated && qcfsSite ? s.ffn : 0) + // silu(gate) * up, the QCFS input of the LLaMA family
    s.ffn + // activation, the input of down
    (s.preNorm ? 0 : s.hidden); // post-norm: the sum before ffn_norm
  return (s.layers + 1) * s.hidden + s.layers * perLayer + (s.finalNorm ? s.hidden : 0) + (s.embedProjection ? 2 * s.wordEmbed : 0);
}

/** Floats per token of the buffers backward carries the gradient in, reused layer after layer. */
export function backwardPerToken(s: ModelShape, qcfsSite: boolean): number {
  return (
    2 * s.hidden + // residual stream and normalised input
    2 * s.qDim + 2 * s.kvDim + // q, attention output; k, v
    2 * s.ffn + // activation and up
    (s.gated ? s.ffn : 0) + // gate
    (s.gated && qcfsSite ? s.ffn : 0) + // QCFS input
    (s.embedProjection ? s.wordEmbed : 0)
  );
}

/** Floats per token of one inference forward's work buffers (engine/runtime/forward.cpp). */
export function inferencePerToken(s: ModelShape): number {
  return 3 * s.hidden + 2 * s.qDim + (s.gated ? 2 : 1) * s.ffn;
}

const count = (n: number) => n.toLocaleString('en');

export function memoryParts(s: ModelShape, r: MemoryRequest): MemoryPart[] {
  const tokens = r.batchSize * r.blockSize;
  const perTokens = `${r.batchSize} × ${r.blockSize} tokens`;
  const T = r.timesteps;
  const part = (id: MemoryPart['id'], label: string, floats: number, how: string): MemoryPart => ({
    id,
    label,
    bytes: floats * FLOAT_BYTES,
    how: `${how} × ${FLOAT_BYTES} bytes`,
  });

  if (r.job === 'train' || r.job === 'finetune') {
    const qcfs = r.job === 'finetune';
    const params = s.parameters + (qcfs ? s.layers : 0);
    const kept = keptPerToken(s, qcfs);
    const back = backwardPerToken(s, qcfs);
    return [
      part('weights', 'Weights', params, `${count(params)} parameters${qcfs ? ' (QCFS thresholds included)' : ''}`),
      part('gradients', 'Gradients', params, `one per parameter: ${count(params)}`),
      part('optimizer', 'Optimizer state (AdamW)', 2 * params, `two moments per parameter: 2 × ${count(params)}`),
      part('activations', 'Activations kept for backward', tokens * kept, `${perTokens} × ${count(kept)} values per token`),
      part('backward', 'Backward work buffers', tokens * back, `${perTokens} × ${count(back)} values per token`),
      part('logits', 'Logits', tokens * s.vocab, `${perTokens} × ${count(s.vocab)} vocabulary entries`),
    ];
  }

  const perT = T > 1 ? ` × ${T} timesteps` : '';
  if (r.job === 'chat') {
    const work = inferencePerToken(s);
    const logitRows = r.batchSize * (T > 1 ? T + 1 : 1);
    return [
      part('weights', 'Weights', s.parameters, `${count(s.parameters)} parameters`),
      part(
        'kvCache',
        'Key/value cache',
        2 * s.layers * s.kvDim * tokens * T,
        `2 (keys, values) × ${s.layers} layers × ${count(s.kvDim)} values × ${perTokens}${perT}`,
      ),
      part('activations', 'Work buffers of one forward', tokens * T * work, `${perTokens}${perT} × ${count(work)} values per token`),
      part(
        'logits',
        'Logits',
        logitRows * s.vocab,
        `${T > 1 ? `${r.batchSize} × (${T} timesteps + their average)` : `${r.batchSize} sequence${r.batchSize > 1 ? 's' : ''}`} × ${count(s.vocab)} vocabulary entries`,
      ),
    ];
  }

  // calibrate
  const neuronParams = 2 * s.layers * s.ffn;
  const kept = keptPerToken(s, true);
  const back = backwardPerToken(s, true);
  const activations = tokens * T * kept + s.layers * tokens * T * s.ffn + s.layers * tokens * s.ffn;
  return [
    part('weights', 'Weights (frozen)', s.parameters, `${count(s.parameters)} parameters, shared by the teacher and the spiking model`),
    part('gradients', 'Gradients', neuronParams, `threshold and initial potential per neuron: 2 × ${s.layers} layers × ${count(s.ffn)}`),
    part('optimizer', 'Optimizer state (Adam)', 2 * neuronParams, `two moments per neuron parameter: 2 × ${count(neuronParams)}`),
    part(
      'activations',
      'Activations kept for backward',
      activations,
      `${perTokens}${perT} × (${count(kept)} values + ${s.layers} layers × ${count(s.ffn)} membrane potentials) + the teacher's ${s.layers} × ${count(s.ffn)} QCFS outputs per token`,
    ),
    part('backward', 'Backward work buffers', tokens * T * back, `${perTokens}${perT} × ${count(back)} values per token`),
    part(
      'logits',
      'Logits',
      tokens * (T + 2) * s.vocab,
      `${perTokens} × (${T} timesteps + their average + the teacher's) × ${count(s.vocab)} vocabulary entries`,
    ),
  ];
}

/** The verdict and what to do about it, in words. */
export function judge(job: MemoryJob, totalBytes: number, freeBytes: number): { verdict: MemoryVerdict; advice: string } {
  const need = `it needs about ${formatBytes(totalBytes)}`;
  const lower = job === 'chat' ? 'use a shorter context' : 'lower the batch or block size';
  if (totalBytes <= COMFORTABLE_SHARE * freeBytes) {
    return { verdict: 'fits', advice: `Fits: ${need} of the ${formatBytes(freeBytes)} free.` };
  }
  if (totalBytes <= freeBytes) {
    return { verdict: 'tight', advice: `Tight: ${need} of the ${formatBytes(freeBytes)} free. Close other programs first, or ${lower}.` };
  }
  return { verdict: 'too-big', advice: `Will not fit: ${need} but only ${formatBytes(freeBytes)} is free. ${lower[0]!.toUpperCase()}${lower.slice(1)}.` };
}
