// How much memory a job will need, part by part, before it starts. The engine keeps activations,
// training's parameters and their state as float32 (4 bytes); to run a model it keeps the weights as
// stored (F16 and BF16 matrices in 2 bytes: ModelShape.weightBytes). The formulas count the buffers it
// really allocates, with n = batch x block tokens; the per-token ones (inferencePerToken, keptPerToken,
// backwardPerToken, the calibrator's student, the spikes) are checked exactly against the engine's
// own size tables, which its allocations are made from (the addon's bufferSizes:
// test/native/memory-sizes.test.ts, for every family with and without the QCFS site):
//   train, finetune  native/src/train: parameters, their gradients and AdamW's two moments
//                    (trainer.h); per token, what Transformer keeps for backward and the buffers its
//                    backward works in (transformer.h); logits [n, vocab], whose gradient reuses them.
//                    Attention keeps q, k and v, never the batch x heads x block^2 probabilities: its
//                    backward recomputes them.
//   chat             native/src/engine/runtime: weights, the key/value cache of `block` positions, the
//                    work buffers of one forward over the whole context (the worst prefill) and one
//                    row of logits per sequence. A spiking model runs its T timesteps as copies of
//                    every sequence (fas-method.md section 3): the cache and the work buffers grow
//                    T times, plus the spikes (one byte each); the logits do not (the features are
//                    averaged first). Its spike-driven layer keeps the down projections transposed.
//   evaluate         the same forward on a batch of blocks (at the largest T measured), with logits
//                    for every position (perplexity and multiple choice score them all), scored in
//                    the engine (counted whole, though it holds one group of sequences' logits at a time).
//   calibrate        native/src/calibrate (stage 2): the model once (teacher and student share its
//                    weights; the student's spike-driven layer keeps the down projections
//                    transposed) with a threshold and an initial potential per neuron (per position
//                    and neuron for per-position values, as the FAS reference recipe fits); their gradients
//                    and Adam moments (every layer's in the joint pass); one batch's captured site
//                    inputs (the teacher's QCFS output, the student's input at every timestep); the
//                    captured inputs kept for the next pass, at most 1 GiB; the joint pass's training
//                    graphs (joint_pass.h): a copy of the weights, what the teacher and the T copies of
//                    the student keep for backward (its averaged features, project_out's output and
//                    align gradients once per token), and the student's backward buffers; the work
//                    buffers and key/value buffers of a spiking forward; the teacher's and the
//                    student's logits.
// The parts are added up, an upper bound where they do not live at the same time. Left out, being
// small or short-lived: a few bytes per token of ids, targets and masks; per-thread scratch (such
// as the attention backward's 2 x 64 x block floats); the app itself; the moment when the trainer
// copies the freshly loaded model into its parameters.
import type { MemoryJob, MemoryPart, MemoryVerdict } from '../../api/contract.js';
import { formatBytes } from '../../shared/format.js';
import type { ModelShape } from './model-shape.js';

export const FLOAT_BYTES = 4;
/** Up to this share of the free memory is a comfortable fit; beyond it, up to all of it, is tight. */
export const COMFORTABLE_SHARE = 0.75;
/** The calibrator keeps one layer's captured inputs between passes while they fit in this (native/src/calibrate). */
export const CALIBRATION_CACHE_BYTES = 2 ** 30;

export interface MemoryRequest {
  job: MemoryJob;
  batchSize: number;
  blockSize: number;
  /** Timesteps of a spiking job (calibrate, chat with a spiking model); 1 for everything else. */
  timesteps: number;
  /** Calibrate: how many positions have their own threshold and initial potential per neuron; 1 when absent. */
  neuronPositions?: number;
}

/** Floats Transformer keeps per row it runs through the layers: every layer's tensors, the residual stream, the final norm's output, the embeddings before project_in. */
function keptPerRow(s: ModelShape, qcfsSite: boolean): number {
  const perLayer =
    (s.preNorm ? s.hidden : 0) + // attn_norm output (post-norm blocks read the layer input itself)
    s.qDim +
    2 * s.kvDim + // q, k, v
    s.qDim + // attention output, the input of o
    2 * s.hidden + // in + o(ctx); the ffn's normalised input
    (s.gated ? 2 : 1) * s.ffn + // up (and gate)
    (s.gated && qcfsSite ? s.ffn : 0) + // silu(gate) * up, the QCFS input of the LLaMA family
    s.ffn + // activation, the input of down
    (s.preNorm ? 0 : s.hidden); // post-norm: the sum before ffn_norm
  return (s.layers + 1) * s.hidden + s.layers * perLayer + (s.finalNorm ? s.hidden : 0) + (s.embedProjection ? s.wordEmbed : 0);
}

/** Floats Transformer keeps per token for backward, one row per token: keptPerRow and project_out's output. */
export function keptPerToken(s: ModelShape, qcfsSite: boolean): number {
  return keptPerRow(s, qcfsSite) + (s.embedProjection ? s.wordEmbed : 0);
}

/** Floats per token of the buffers backward carries the gradient in, reused layer after layer. */
export function backwardPerToken(s: ModelShape, qcfsSite: boolean): number {
  return (
    2 * s.hidden + // residual stream and normalised input
    2 * s.qDim +
    2 * s.kvDim + // q, attention output; k, v
    2 * s.ffn + // activation and up
    (s.gated ? s.ffn : 0) + // gate
    (s.gated && qcfsSite ? s.ffn : 0) + // QCFS input
    (s.embedProjection ? s.wordEmbed : 0)
  );
}

/**
 * Floats per token the calibrator's student (the QCFS graph with IF neurons, T copies of each token
 * through the layers) keeps for backward: T rows, then once per token the features averaged over T
 * (T > 1), project_out's output and every layer's align gradient.
 */
export function spikingKeptPerToken(s: ModelShape, T: number): number {
  return T * keptPerRow(s, true) + (T > 1 ? s.hidden : 0) + (s.embedProjection ? s.wordEmbed : 0) + s.layers * s.ffn;
}

/** Floats per token of the student's backward buffers: T rows, and the averaged features' gradient (T > 1). */
export function spikingBackwardPerToken(s: ModelShape, T: number): number {
  return T * backwardPerToken(s, true) + (T > 1 ? s.hidden : 0);
}

/**
 * Floats per token of one inference forward's work buffers (engine/runtime/forward_sizes.h): the
 * residual stream, normalised input and block output; q, k, v and the attention output; up (and
 * gate); project_in's input while embedding.
 */
export function inferencePerToken(s: ModelShape): number {
  return 3 * s.hidden + 2 * s.qDim + 2 * s.kvDim + (s.gated ? 2 : 1) * s.ffn + (s.embedProjection ? s.wordEmbed : 0);
}

/** Floats per token of one calibration capture: the teacher's site output and the student's input at each of T timesteps. */
export function capturedPerToken(s: ModelShape, T: number): number {
  return (T + 1) * s.ffn;
}

/** Floats per token of a capture's keys and values: one layer's (the forward reuses them layer after layer), T copies. */
export function captureKeyValuesPerToken(s: ModelShape, T: number): number {
  return 2 * T * s.kvDim;
}

/** A spiking forward also keeps the FFN site's spikes, one byte each (int8), per token and timestep. */
export function spikeBytesPerToken(s: ModelShape): number {
  return s.ffn;
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
  const sixteenBit = s.weightBytes < s.parameters * FLOAT_BYTES;
  // The weights as the engine runs them, plus `floats` more (calibration's neuron values).
  const runWeights = (label: string, how: string, floats = 0): MemoryPart => ({
    id: 'weights',
    label,
    bytes: s.weightBytes + floats * FLOAT_BYTES,
    how: sixteenBit ? `${how}, the 16-bit matrices in 2 bytes each and the rest in ${FLOAT_BYTES}` : `${how} × ${FLOAT_BYTES} bytes`,
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
  // A spiking forward of scope ffn (T > 1; calibration's student) adds each active neuron's row of
  // the down projection, so it keeps that matrix transposed, in the weights' dtype (SpikingSite).
  const matrixBytes = sixteenBit ? 2 : FLOAT_BYTES;
  const spikeWeights: MemoryPart = {
    id: 'spikeWeights',
    label: 'Transposed down projections',
    bytes: s.layers * s.ffn * s.hidden * matrixBytes,
    how: `${s.layers} layers × ${count(s.ffn)} × ${count(s.hidden)} values × ${matrixBytes} bytes`,
  };
  const work = inferencePerToken(s);
  const spikes = r.job === 'calibrate' || T > 1 ? spikeBytesPerToken(s) : 0;
  const workPart: MemoryPart = {
    id: 'work',
    label: 'Work buffers of one forward',
    bytes: tokens * T * (work * FLOAT_BYTES + spikes),
    how:
      `${perTokens}${perT} × ` +
      (spikes > 0
        ? `(${count(work)} values × ${FLOAT_BYTES} bytes + ${count(spikes)} spikes × 1 byte) per token`
        : `${count(work)} values per token × ${FLOAT_BYTES} bytes`),
  };
  if (r.job === 'chat' || r.job === 'evaluate') {
    const logits =
      r.job === 'chat'
        ? part('logits', 'Logits', r.batchSize * s.vocab, `${r.batchSize} × ${count(s.vocab)} vocabulary entries`)
        : part('logits', 'Logits', tokens * s.vocab, `${perTokens} × ${count(s.vocab)} vocabulary entries`);
    return [
      runWeights('Weights', `${count(s.parameters)} parameters`),
      ...(T > 1 ? [spikeWeights] : []),
      part(
        'kvCache',
        'Key/value cache',
        2 * s.layers * s.kvDim * tokens * T,
        `2 (keys, values) × ${s.layers} layers × ${count(s.kvDim)} values × ${perTokens}${perT}`,
      ),
      workPart,
      logits,
    ];
  }

  // calibrate: the per-layer passes fit one layer at a time; the joint pass fits every layer at once
  // on the training graph (the captured inputs are dropped before it starts).
  const P = r.neuronPositions ?? 1;
  const neurons = 2 * s.layers * P * s.ffn;
  const perNeuron = `2 × ${s.layers} layers${P > 1 ? ` × ${P} positions` : ''} × ${count(s.ffn)}`;
  const teacher = keptPerToken(s, true);
  const student = spikingKeptPerToken(s, T);
  const back = spikingBackwardPerToken(s, T);
  const joint = s.parameters + s.layers + tokens * (teacher + student + back);
  return [
    runWeights(
      'Weights (frozen)',
      `${count(s.parameters)} parameters + a threshold and an initial potential per ${P > 1 ? '(position, neuron)' : 'neuron'}: ${perNeuron}`,
      neurons,
    ),
    spikeWeights,
    part('gradients', 'Gradients', neurons, `threshold and initial potential of every ${P > 1 ? '(position, neuron)' : 'neuron'}: ${perNeuron}`),
    part('optimizer', 'Optimizer state (Adam)', 2 * neurons, `two moments per neuron parameter: 2 × ${count(neurons)}`),
    part(
      'activations',
      'Captured inputs of one batch',
      tokens * capturedPerToken(s, T),
      `${perTokens} × (${T} timesteps + the teacher's output) × ${count(s.ffn)} neurons`,
    ),
    part(
      'cache',
      'Captured inputs kept for the next pass',
      CALIBRATION_CACHE_BYTES / FLOAT_BYTES,
      `one layer's inputs over the whole calibration set, kept only while they fit in 1 GiB: at most ${count(CALIBRATION_CACHE_BYTES / FLOAT_BYTES)} values`,
    ),
    part(
      'backward',
      'Joint pass: weights copy, activations and backward buffers',
      joint,
      `${count(s.parameters + s.layers)} parameters + ${perTokens} × (${count(teacher)} kept by the teacher + ${count(student)} by the student's ${T} timesteps, align gradients included + ${count(back)} backward) values per token`,
    ),
    workPart,
    part('kvCache', 'Key/value buffers', tokens * captureKeyValuesPerToken(s, T), `2 (keys, values) × ${count(s.kvDim)} values × ${perTokens}${perT}`),
    part('logits', 'Logits', 2 * tokens * s.vocab, `2 (teacher, spiking model) × ${perTokens} × ${count(s.vocab)} vocabulary entries`),
  ];
}

/** The T the FAS method converts at (4 to 8): a larger T is the first thing to lower. */
const USUAL_TIMESTEPS = 8;

/**
 * What to lower, in words: the setting whose lowering saves the most memory (halving the batch or
 * block size, or T down to the usual 8), e.g. "lower the timesteps T (now 1024)" when T is what
 * makes the job big; a chat can only use a shorter context.
 */
export function whatToLower(s: ModelShape, r: MemoryRequest): string {
  if (r.job === 'chat') return 'use a shorter context';
  const total = (request: MemoryRequest) => memoryParts(s, request).reduce((sum, p) => sum + p.bytes, 0);
  const candidates = [
    {
      words: `lower the timesteps T (now ${r.timesteps})`,
      halved: { ...r, timesteps: r.timesteps > USUAL_TIMESTEPS ? USUAL_TIMESTEPS : Math.floor(r.timesteps / 2) },
      can: r.timesteps > 1,
    },
    { words: `lower the batch size (now ${r.batchSize})`, halved: { ...r, batchSize: Math.floor(r.batchSize / 2) }, can: r.batchSize > 1 },
    { words: `lower the block size (now ${r.blockSize})`, halved: { ...r, blockSize: Math.floor(r.blockSize / 2) }, can: r.blockSize > 1 },
  ].filter((c) => c.can);
  const best = candidates.map((c) => ({ ...c, saved: total(r) - total(c.halved) })).sort((a, b) => b.saved - a.saved)[0];
  return best?.words ?? 'lower the batch or block size';
}

/** The verdict and what to do about it, in words (`lower`: what to lower, from whatToLower). */
export function judge(
  job: MemoryJob,
  totalBytes: number,
  freeBytes: number,
  lower = job === 'chat' ? 'use a shorter context' : 'lower the batch or block size',
): { verdict: MemoryVerdict; advice: string } {
  const need = `it needs about ${formatBytes(totalBytes)}`;
  if (totalBytes <= COMFORTABLE_SHARE * freeBytes) {
    return { verdict: 'fits', advice: `Fits: ${need} of the ${formatBytes(freeBytes)} free.` };
  }
  if (totalBytes <= freeBytes) {
    return { verdict: 'tight', advice: `Tight: ${need} of the ${formatBytes(freeBytes)} free. Close other programs first, or ${lower}.` };
  }
  return { verdict: 'too-big', advice: `Will not fit: ${need} but only ${formatBytes(freeBytes)} is free. ${lower[0]!.toUpperCase()}${lower.slice(1)}.` };
}
