// The whole native surface, typed in one place. Everything the C++ addon exports is declared here;
// the rest of the app imports the addon only through this module.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CalibrationRecipeRecord, SimdFeatures, WeightDType } from '../electron/api/contract.js';

export type { SimdFeatures };

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
export type NativeDType = WeightDType;

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

// ---- Inference ------------------------------------------------------------------------------
// Every promise below runs its work off the JS thread and rejects with an Error whose message comes
// from the engine (bad ids, context overflow) or names the call's problem (a disposed model), or with
// a TypeError naming a bad argument. Logits are float32, row-major.
//
// Modes (fas-method.md sections 2, 3 and 5): the FFN activation site (GPT-2's gelu_new after c_fc,
// OPT's ReLU after fc1, LLaMA's signed product silu(gate) * up) runs as
//   'ann'  the model's own activation;
//   'qcfs' QCFS with each layer's lambda and L levels (two-sided when signed);
//   'snn'  integrate-and-fire neurons over T timesteps (threshold and v0 per layer, per neuron or per
//          (position, neuron); uncalibrated: theta = lambda, v0 = theta / 2). Every other op runs once
//          per timestep on the same input (direct coding), T being a batch dimension; the neurons'
//          state runs over t within each token position and restarts from v0 at every position; the
//          down projection (c_proj / fc2 / down_proj) is computed from the spikes; logits are the
//          average over the T timesteps. Exactly equivalent to stepping the network T times.
// qcfs and snn need a model loaded with its spiking parameters (LoadModelOptions.spiking).
// Scope 'all' (fas-method.md section 9): a quantiser with per-channel thresholds at every input of a
// matrix product (attn_in, q after RoPE, v, attn_out, ffn_in, the FFN site, head_in), L levels in
// 'qcfs'; in 'snn' layer-encoded IF neurons whose counts clip(floor(T x / lambda + 0.5), -T, T)
// drive every product (event-driven when sparse), one pass per token whatever T (a cache of
// quantised values, keys real); softmax, norms, RoPE, SiLU and the SwiGLU product once per token.

/** One layer's thresholds in scope 'all', spiking.safetensors' names: each [width], qcfs [1] or [ffn]. */
export interface NativeSiteLambdas {
  attn_in: Float32Array;
  q: Float32Array;
  v: Float32Array;
  attn_out: Float32Array;
  ffn_in: Float32Array;
  qcfs: Float32Array;
}

export type SpikingSiteName = keyof NativeSiteLambdas | 'head_in';

export type InferenceMode = 'ann' | 'qcfs' | 'snn';

export interface NativeSpikingParams {
  /** Quantisation levels L of QCFS (1..65536). */
  levels: number;
  /** Signed site (LLaMA family): two-sided QCFS and neurons firing -1 as well as +1. */
  signed: boolean;
  /** T of 'snn' runs that do not choose one (spiking_config.json's T); default 8. */
  timesteps?: number;
  /** 'ffn' (default): the FAS paper's recipe, spikes at the FFN site; 'all': every matrix product on spikes. */
  scope?: 'ffn' | 'all';
  /** Scope 'ffn': QCFS lambda of every layer, > 0. */
  lambdas?: Float32Array;
  /** Scope 'all': every layer's site thresholds (finite, > 0), and the head input's ([hidden]). */
  sites?: NativeSiteLambdas[];
  headIn?: Float32Array;
  /**
   * Calibrated neurons, one entry per layer (NativeNeuronValues, in the calibration section below);
   * absent or null before stage 2. With shape [positions, ffn], later positions use the last row.
   */
  neurons?: NativeNeuronValues[] | null;
  /**
   * Where 'snn' runs the neurons and the down projection: 'cpu' (default) or 'cuda', which uses the
   * GPU when one is usable and otherwise runs on the CPU, saying why in InferenceStats.backendNote.
   */
  backend?: 'cpu' | 'cuda';
}

export interface LoadModelOptions {
  /** The converted model's spiking parameters: enables the 'qcfs' and 'snn' modes. */
  spiking?: NativeSpikingParams | null;
}

export interface RunModeOptions {
  /** Default 'ann'. */
  mode?: InferenceMode;
  /** T for 'snn' (1..1024); default the model's NativeSpikingParams.timesteps. */
  timesteps?: number;
  /** 'snn': also report every neuron's firing rate (InferenceStats.neuronFiringRates). */
  neuronRates?: boolean;
}

export interface ForwardOptions extends RunModeOptions {
  /** Only the logits of each sequence's last position: the result is [batch, vocab]. */
  lastOnly?: boolean;
}

/** A session's mode, fixed for its life. */
export type SessionOptions = RunModeOptions;

/** Scope 'all' in 'snn' mode: one site's spike counts and energy. */
export interface SiteStats {
  site: SpikingSiteName;
  /** Mean |count| / T over the site's values, every layer's. */
  firingRate: number;
  /** The same per layer ([] for head_in). */
  layerFiringRates: number[];
  /** ACs per token: the site's |counts| x fan-out (InferenceStats.counted says which fan-out). */
  acsPerToken: number;
  picojoulesPerToken: number;
}

/**
 * What one forward(), eval() or generate() did, for the energy estimate of fas-method.md section 5.
 * Per-token values divide by `tokens`, every position run (prompt and generated tokens alike).
 */
export interface InferenceStats {
  mode: InferenceMode;
  /** T in 'snn' mode, else 1. */
  timesteps: number;
  /** The model's spiking scope ('ffn' for a plain model). */
  scope: 'ffn' | 'all';
  tokens: number;
  /** Multiply-accumulates on real values per token, this mode (see `counted`). */
  macsPerToken: number;
  /** Accumulates caused by spikes per token: spikes x fan-out of the down projection; 0 unless 'snn'. */
  acsPerToken: number;
  /** MACs per token of the same positions through the ANN. */
  annMacsPerToken: number;
  /**
   * picojoules: MACs x 4.6 + ACs x 0.9 of this mode; annPicojoules: the ANN's MACs x 4.6; saving:
   * 1 - picojoules / annPicojoules, negative when this mode costs more.
   */
  energyPerToken: { picojoules: number; annPicojoules: number; saving: number };
  /**
   * 'snn': per layer, the fraction of (neuron, timestep, position) slots that fired; [] otherwise.
   * Scope 'all': per layer, mean |count| / T over its sites' values.
   */
  firingRates: number[];
  /** 'snn': per layer, the spikes fired (+1 and -1 alike; scope 'all': over its sites); [] otherwise. */
  spikes: number[];
  /** Scope 'all' in 'snn' mode: every site, in the order a layer runs them, then head_in; [] otherwise. */
  sites: SiteStats[];
  /** With neuronRates: per layer, every neuron's firing rate over its timesteps and positions. */
  neuronFiringRates: Float32Array[] | null;
  /**
   * How the down projections of 'snn' ran (scope 'all': every product from spike counts, in qcfs and
   * snn), counted per layer and pass: event-driven or dense on the CPU (a cost model picks from the
   * measured firing rate), or on the GPU.
   */
  downProjection: { event: number; dense: number; gpu: number };
  /** 'cuda' when any layer ran on the GPU. */
  backend: 'cpu' | 'cuda';
  /** Why the CPU ran although backend 'cuda' was asked for; '' otherwise. */
  backendNote: string;
  /** What the MAC and AC counts include and leave out, in words. */
  counted: string;
}

export interface GenerateOptions {
  /** Appended to the session's context before generating; may be empty to continue it. */
  promptIds: Int32Array | readonly number[];
  /** Most tokens to generate (the end-of-sequence token counts). */
  maxTokens: number;
  /** 0 (the default) is greedy: argmax after the repetition penalty. */
  temperature?: number;
  /** Keep the k most likely tokens (ties at the k-th included); 0, the default, keeps all. */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches topP; default 1 (all). */
  topP?: number;
  /**
   * Hugging Face repetition penalty over every token of the context: positive logits are divided by
   * it, negative ones multiplied. Default 1 (off).
   */
  repetitionPenalty?: number;
  /** Seeds the sampler: the same seed, prompt and options give the same tokens. Default 0. */
  seed?: number;
  /** Generation stops after producing any of these ids. */
  eosIds?: readonly number[];
}

/**
 * 'eos': the last token is one of eosIds. 'length': maxTokens tokens, or the context reached the
 * model's maxPositions. 'aborted': session.abort() (or an exception thrown by onToken, which then
 * rejects the promise instead).
 */
export type StopReason = 'eos' | 'length' | 'aborted';

export interface GenerateResult {
  tokens: number[];
  stopReason: StopReason;
  /** The prompt's prefill and every generated token. */
  stats: InferenceStats;
}

/**
 * One sequence with a key/value cache. Its context is every token given to eval(), score() or
 * generate() plus every generated token, so successive calls continue the same conversation. One call
 * at a time: a second call while one runs rejects with "the session is busy".
 */
export interface NativeSession {
  /**
   * Appends ids to the context, runs them (one batched prefill) and resolves with the logits after
   * the last one: [vocab]. Rejects, leaving the context as it was, on an id outside the vocabulary,
   * when the context would exceed maxPositions ("context overflow"), or with "aborted" after abort().
   */
  eval(ids: Int32Array): Promise<Float32Array>;
  /**
   * eval(ids), resolving with log p(targets[i] | the context up to ids[i]) for each i: the scores of
   * the tokens that follow, after a context already in the cache (multiple-choice answers after one
   * passage). Rejects a target outside the vocabulary, leaving the context as it was.
   */
  score(ids: Int32Array, targets: Int32Array): Promise<Float64Array>;
  /** Keeps the first `length` tokens of the context and their cache. Throws while a call runs. */
  truncate(length: number): void;
  /** Generates tokens; onToken receives each one as soon as it is chosen, before the promise settles. */
  generate(options: GenerateOptions, onToken: (id: number) => void): Promise<GenerateResult>;
  /** Stops the eval(), score() or generate() in progress: between tokens, or between layers of a prefill. */
  abort(): void;
  /** Empties the context. Throws while an eval(), score() or generate() runs. */
  reset(): void;
  /** Statistics of the last eval(), score() or generate() (null before the first). Throws while one runs. */
  lastStats(): InferenceStats | null;
}

export interface NativeModel {
  /**
   * Runs `batch` sequences of `seqLen` tokens each (ids is [batch, seqLen], positions from 0) and
   * resolves with logits [batch, seqLen, vocab], or [batch, vocab] with lastOnly; in 'snn' mode the
   * logits averaged over the T timesteps. Rejects a mode the model was not loaded for.
   */
  forward(ids: Int32Array, batch: number, seqLen: number, options?: ForwardOptions): Promise<Float32Array>;
  /** forward() with the statistics of the pass. */
  forwardWithStats(ids: Int32Array, batch: number, seqLen: number, options?: ForwardOptions): Promise<{ logits: Float32Array; stats: InferenceStats }>;
  /**
   * The score of every next token: log p(targets[i] | ids of its sequence up to i), [batch, seqLen],
   * in the mode given, from the same logits as forward() but scored inside the engine, so the logits
   * (batch x seqLen x vocab floats) never reach JavaScript. Rejects a target outside the vocabulary.
   */
  targetLogProbs(ids: Int32Array, batch: number, seqLen: number, targets: Int32Array, options?: RunModeOptions): Promise<Float64Array>;
  /**
   * Starting thresholds of scope 'all' from activation statistics: the model run as an ANN over ids
   * [batch, seqLen], and for every channel of every site the `percentile` (in (0, 1], e.g. 0.999) of
   * |x|, at least 1e-3. The FFN site comes per neuron.
   */
  siteThresholds(ids: Int32Array, batch: number, seqLen: number, percentile: number): Promise<{ sites: NativeSiteLambdas[]; headIn: Float32Array }>;
  /**
   * A new, empty generation session on this model, in a mode fixed for its life. In 'snn' mode each
   * token runs its T timesteps and the key/value cache is T times that of the ANN (scope 'all': one
   * pass per token and one cache, of quantised values). Throws for a mode
   * the model was not loaded for.
   */
  createSession(options?: SessionOptions): NativeSession;
  /**
   * Releases this handle's hold on the weights: later forward() calls reject and createSession()
   * throws. The memory is freed once calls in flight and sessions created from the model are gone.
   */
  dispose(): void;
}

// ---- Benchmarks -----------------------------------------------------------------------------

export interface SpikeLinearTiming {
  /** Best of 5, milliseconds, on the engine's thread pool. */
  eventMs: number;
  denseMs: number;
  /** What the engine's cost model would pick at this firing rate. */
  costModelChooses: 'event' | 'dense';
}

// ---- Training -------------------------------------------------------------------------------
// Full-parameter training on the CPU (native/src/train): plain fine-tuning, and FAS stage 1 with
// QCFS at the FFN site. Parameters, gradients and AdamW state live in the engine as F32 in canonical
// layout; tensors cross as copies. Promises run off the JS thread, one call at a time per trainer:
// a second call while one is in flight rejects with "the trainer is busy", and the synchronous
// methods throw then. Results are the same bits for any thread count.

export interface TrainerQcfsOptions {
  /** Quantisation levels L (1..65536). */
  levels: number;
  /** Starting lambda of every layer; at least 1e-3. */
  initialLambda: number;
  /** Two-sided QCFS, clip to [-lambda, lambda]: the LLaMA family's signed gated product. */
  signed: boolean;
  /**
   * Scope 'all' (fas-method.md section 9): a signed quantiser at every input of a matrix product
   * too, with a lambda per channel, the parameters "layers.{i}.{attn_in,q,v,attn_out,ffn_in}.lambda"
   * and "head_in.lambda" (spiking.safetensors' names and widths) in the "threshold" group; every
   * threshold starts at initialLambda until set. Default false.
   */
  everySite?: boolean;
  /** With everySite: "layers.{i}.qcfs.lambda" has one lambda per FFN neuron [ffn] instead of [1]. */
  perNeuronFfn?: boolean;
}

export interface TrainerOptions {
  /**
   * Replaces the FFN activation (GPT-2 gelu_new, OPT ReLU, LLaMA's silu(gate) * up) by QCFS with one
   * learnable lambda per layer, the parameter "layers.{i}.qcfs.lambda" of shape [1] in the
   * "threshold" group. Lambdas are clamped to at least 1e-3 after every step.
   */
  qcfs?: TrainerQcfsOptions | null;
  /** Threads of the trainer's own pool; default the physical cores. */
  threads?: number;
}

/** 'decay': weight matrices and embeddings; 'no_decay': biases and norm parameters; 'threshold': QCFS lambdas. */
export type TrainerParameterGroup = 'decay' | 'no_decay' | 'threshold';

export interface TrainerParameter {
  /** Canonical name (see NativeModelSpec), or layers.{i}.qcfs.lambda. */
  name: string;
  shape: number[];
  group: TrainerParameterGroup;
}

export interface TrainerStepHyper {
  /** Learning rate of each parameter group. */
  lr: { decay: number; noDecay: number; threshold: number };
  /** Decoupled weight decay (torch.optim.AdamW), applied to the 'decay' group only. */
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Limit on the global gradient norm (torch clip_grad_norm_); 0 turns clipping off. */
  clipNorm: number;
}

export interface TrainerOptimizerState {
  /** Optimizer steps applied so far (AdamW's bias correction counts from it). */
  step: number;
  /** First and second moments of every parameter, by name; setOptimizerState needs all of them. */
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

export interface NativeTrainer {
  /**
   * Forward and backward of one micro-batch: inputs and targets are [batch, seqLen] (positions from
   * 0), mask[i] != 0 where target i counts (default: all). Adds the gradient of the summed token loss
   * to the accumulated gradients. loss is the mean over the counted targets (0 when none count) and
   * is NaN or Infinity when the forward pass overflowed: the next optimizerStep is then not applied.
   * Rejects on ids outside the vocabulary or seqLen beyond maxPositions.
   */
  forwardBackward(inputs: Int32Array, targets: Int32Array, batch: number, seqLen: number, mask?: Uint8Array): Promise<{ loss: number; tokens: number }>;
  /**
   * One AdamW step on the gradients accumulated since the last step, divided by their counted tokens
   * (so micro-batches add up exactly to one big batch), clipped to clipNorm; then zeroes them.
   * gradNorm is the norm before clipping (NaN after a non-finite loss). applied is false, and nothing
   * changes but the cleared gradients, when the loss or the gradient was not finite. Rejects when no
   * forwardBackward with counted targets came before.
   */
  optimizerStep(hyper: TrainerStepHyper): Promise<{ gradNorm: number; applied: boolean }>;
  /**
   * Summed token loss and counted targets without gradients, with the original activation ('ann') or
   * QCFS ('qcfs', only for a trainer created with the qcfs option). Accumulated gradients are kept.
   */
  evaluate(
    inputs: Int32Array,
    targets: Int32Array,
    batch: number,
    seqLen: number,
    mode: 'ann' | 'qcfs',
    mask?: Uint8Array,
  ): Promise<{ lossSum: number; tokens: number }>;
  /** Every trainable tensor, in canonical order, QCFS lambdas last. */
  parameters(): TrainerParameter[];
  /** A copy of a parameter. Throws for an unknown name. */
  getTensor(name: string): Float32Array;
  /** Overwrites a parameter; data must have exactly its size (a lambda must be >= 1e-3). */
  setTensor(name: string, data: Float32Array): void;
  getOptimizerState(): TrainerOptimizerState;
  /** Restores a state from getOptimizerState, so a resumed run continues bit-exactly. Checks it whole first. */
  setOptimizerState(state: TrainerOptimizerState): void;
  /**
   * Stops a cancelled job's work: the forwardBackward in flight (and every later one) rejects with
   * "aborted" after its forward pass, without adding its gradients. Parameters and optimizer state
   * stay as the last optimizerStep left them, so a checkpoint saved now resumes exactly.
   */
  abort(): void;
  /** Frees the parameters, gradients and optimizer state; later calls throw. */
  dispose(): void;
}

// ---- Calibration (FAS stage 2) ----------------------------------------------------------------
// Fits the IF neurons' thresholds and initial potentials of a converted model (weights frozen) so
// that the spiking model at T matches its QCFS teacher (native/src/calibrate). Teacher and student
// run side by side on the calibration sequences; each pass works on one layer, and each layer is
// fitted to what the layers before it deliver with their current values. Only the per-layer align
// losses are minimised; evaluate() measures the logits' KL divergence but nothing back-propagates it.
// One call at a time per calibrator: another call while one is in flight rejects (or throws, for
// the synchronous methods) with "the calibrator is busy". abort() makes the call in flight reject
// with "aborted".

export interface CalibratorOptions {
  /** QCFS quantisation levels L of the stage-1 model. */
  levels: number;
  /** QCFS threshold lambda of every layer (> 0). */
  lambdas: Float32Array | readonly number[];
  /** Signed site and bipolar neurons (the LLaMA family's gated product). */
  signed: boolean;
  /** Timesteps T of the spiking student. */
  timesteps: number;
}

/** A layer's neurons as spiking.safetensors stores them: shape [1], [ffn] or [positions, ffn]. */
export interface NativeNeuronValues {
  threshold: Float32Array;
  v0: Float32Array;
  shape: number[];
}

/** Align losses are mean squared errors per site output over the calibration set. */
export interface CoarseCalibration {
  /** The chosen per-layer threshold and initial potential, now the layer's values. */
  theta: number;
  v0: number;
  loss: number;
  /** Loss of theta = lambda, v0 = theta / 2 (the uncalibrated neuron). */
  startLoss: number;
  /** Loss of the GPT-2 reference code's theta = 0.6 lambda, v0 = 0.2 theta. */
  referenceLoss: number;
  candidates: number;
}

export interface FineCalibrationEpoch {
  /** Mean align loss seen while stepping (the values moved during the epoch). */
  trainLoss: number;
  /** Align loss of the layer's values after the epoch: each entry keeps its best value so far. */
  loss: number;
}

/** Means over the epoch's batches, seen while stepping (the values moved during the epoch). */
export interface JointCalibrationEpoch {
  /** Mean KL(softmax(QCFS logits) || softmax(time-averaged SNN logits)) per position. */
  kl: number;
  /** Sum over layers of the align losses (mean squared error per site output). */
  align: number;
}

/** Sums over the scored positions; perplexity is exp(nll / tokens). */
export interface TeacherStudentComparison {
  /** Negative log-likelihood of the targets under the QCFS teacher. */
  teacherNll: number;
  /** The same under the spiking student at T (time-averaged logits). */
  studentNll: number;
  /** KL(softmax(teacher logits) || softmax(student logits)). */
  kl: number;
  tokens: number;
}

/** How the coarse pass picks a layer's values: searched, or the FAS reference code's fixed start. */
export type CoarseChoice = 'search' | 'reference';
/** What divides the joint pass's KL summed over a batch: its positions, or its sequences (batchmean). */
export type KlReduction = CalibrationRecipeRecord['klReduction'];

export interface NativeCalibrator {
  /** The calibration sequences, ids [sequences, seqLen], run `batch` at a time (one Adam step per batch). */
  setData(ids: Int32Array, sequences: number, seqLen: number, batch: number): void;
  getNeurons(layer: number): NativeNeuronValues;
  /** Sets a layer's values (shape [1], [ffn] or [positions, ffn]); throws when they do not fit the model or a threshold is <= 0. */
  setNeurons(layer: number, values: NativeNeuronValues): void;
  alignLoss(layer: number): Promise<number>;
  /**
   * Coarse pass of one layer: per-layer (theta, v0), set as the layer's values. choice 'search' (the
   * default): the best of a search over candidates; 'reference': no search, the FAS reference code's
   * theta = 0.6 lambda, v0 = 0.2 theta. Either way both published starting points' losses come back.
   */
  coarse(layer: number, options?: { choice?: CoarseChoice }): Promise<CoarseCalibration>;
  /** Starts the fine pass of a layer from its current values: per neuron, or per (position, neuron) for positions > 0. */
  startFine(layer: number, options: { positions: number; lr: number }): Promise<void>;
  /** One epoch of Adam on the surrogate gradient of the layer's align loss. */
  fineEpoch(layer: number): Promise<FineCalibrationEpoch>;
  /**
   * Starts the joint pass: every layer's values at once (spread to per neuron, or per (position,
   * neuron) for positions > 0; per-position layers must already have that many rows), fresh Adam.
   * The loss is KL of the logits + alignWeight * the sum of the layers' align losses; the KL summed
   * over the batch's positions is divided by the positions ('position', the default) or by the
   * sequences ('batchmean', as the FAS reference code).
   */
  startJoint(options: { positions: number; lr: number; alignWeight: number; klReduction?: KlReduction }): Promise<void>;
  /** One epoch, one Adam step per batch, back-propagated through the spiking network; every layer takes the result. */
  jointEpoch(): Promise<JointCalibrationEpoch>;
  /** Teacher and student on inputs [batch, seqLen], scored against targets. */
  evaluate(inputs: Int32Array, targets: Int32Array, batch: number, seqLen: number): Promise<TeacherStudentComparison>;
  abort(): void;
  /** Frees the model and the captured activations; later calls throw. */
  dispose(): void;
}

// ---- Buffer sizes ---------------------------------------------------------------------------
// The engine's size tables (engine/runtime/forward_sizes.h, train/model/buffer_sizes.h), which its
// forward and training graphs allocate from: what electron/core/estimate/memory.ts is checked against.

export interface BufferSizeOptions {
  /** The training graph with the QCFS site (finetune, the calibrator's teacher) or without (train). */
  qcfsSite: boolean;
  /**
   * Absent: an inference forward in ann mode and the training graph. T: a forward in snn mode at T
   * timesteps and the calibrator's student (T copies of each token, with its align target); needs qcfsSite.
   */
  timesteps?: number;
}

export interface BufferSizes {
  /** Floats per token of one forward's work buffers (T copies' in snn mode). */
  inferencePerToken: number;
  /** Bytes per token of the snn mode's int8 spikes (T copies'); 0 otherwise. */
  spikeBytesPerToken: number;
  /** Floats per token the training graph keeps for backward, the logits aside. */
  keptPerToken: number;
  /** Floats per token of its backward's buffers. */
  backwardPerToken: number;
  /** With timesteps: floats per token of a calibration capture, the teacher's site output and the student's T inputs. */
  capturedPerToken?: number;
  /** With timesteps: floats per token of the capture's keys and values (one layer's, T copies). */
  keyValuesPerToken?: number;
}

// ---- The addon ------------------------------------------------------------------------------

/** Everything the addon exports: each file of native/src/binding registers its part. */
export interface NativeAddon {
  /** The CPU's features and whether the CUDA backend was built and can run. */
  hardware(): NativeHardware;

  // Inference
  /**
   * Memory-maps the spec's files and builds the model: matrices keep their dtype (F16 and BF16 stay
   * 16-bit, widened by the kernels as they read them) and are used in place where the file's layout
   * allows; transposed and split ones are copied, vectors (biases, norms) widened to F32. Rejects
   * with an Error naming the file and the tensor when a reference is out of bounds, sized or shaped
   * wrong, unknown or missing, and naming the value when the spiking parameters do not fit the model.
   */
  loadModel(spec: NativeModelSpec, options?: LoadModelOptions): Promise<NativeModel>;
  /** Threads of the engine's shared pool (default: the physical cores). */
  setThreads(threads: number): void;
  getThreads(): number;

  // Benchmarks
  /**
   * Times the spike-receiving linear layer (inputs -> outputs, T x rows spike rows at firingRate,
   * random weights and spikes) computed event-driven and as a dense product, for `fas bench`.
   */
  benchSpikeLinear(options: { inputs: number; outputs: number; rows: number; timesteps: number; firingRate: number }): Promise<SpikeLinearTiming>;
  /** The memory read bandwidth on the engine's threads (best of 5 sweeps over 256 MiB), for `fas bench`. */
  benchReadBandwidth(): Promise<{ bytesPerSecond: number }>;
  /** The multiply-add peak on the engine's threads (a fused multiply-add counts two operations; best of 20 runs of about 10 ms), for `fas bench`. */
  benchFmaPeak(): Promise<{ flopsPerSecond: number }>;

  // Training
  /**
   * Loads the spec's weights through the engine's loader (any dtype, transposes and splits converted)
   * into F32 parameters. Rejects as loadModel does, and on invalid options.
   */
  createTrainer(spec: NativeModelSpec, options?: TrainerOptions): Promise<NativeTrainer>;

  // Calibration
  /** Loads the spec's weights (as loadModel) with the given spiking parameters, every layer uncalibrated. */
  createCalibrator(spec: NativeModelSpec, options: CalibratorOptions): Promise<NativeCalibrator>;

  // Memory
  /** Per token, the buffers the engine allocates for this model (throws a TypeError naming a bad field). */
  bufferSizes(spec: NativeModelSpec, options: BufferSizeOptions): BufferSizes;
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
    throw new Error(`The native engine is not built (looked for ${candidates.join(', ')}). Run "npm run build:native".`);
  }
  return found;
}

let cached: NativeAddon | undefined;

/** Loads the addon once. Throws a clear error when it has not been built. */
export function loadNative(): NativeAddon {
  cached ??= createRequire(import.meta.url)(addonPath()) as NativeAddon;
  return cached;
}
