// The one API contract between the UI and the application core. It holds types only, so the
// renderer can import it without pulling in Node code. Both transports (Electron IPC and the local
// HTTP server) carry exactly these requests, responses and events.

export interface SimdFeatures {
  avx2: boolean;
  avx512: boolean;
  fma: boolean;
  neon: boolean;
}

export interface GpuStatus {
  /** The engine was compiled with the CUDA backend. */
  cudaBuilt: boolean;
  /** A CUDA device can be used; when false, `reason` says why in plain words. */
  usable: boolean;
  deviceName: string | null;
  deviceCount: number;
  runtimeVersion: string | null;
  reason: string | null;
}

export interface HardwareInfo {
  platform: string;
  arch: string;
  cpuModel: string;
  physicalCores: number;
  logicalCores: number;
  simd: SimdFeatures;
  totalMemoryBytes: number;
  freeMemoryBytes: number;
  gpu: GpuStatus;
  /** The compute backend jobs will use: 'cuda' only when a device is usable. */
  backend: 'cpu' | 'cuda';
}

export interface AppInfo {
  name: string;
  version: string;
  /** Where runs, models and chats are kept. */
  workspaceDir: string;
}

export type ModelType = 'gpt2' | 'opt' | 'llama' | 'qwen2';
export type WeightDType = 'F32' | 'F16' | 'BF16';

/** What the app shows about a model before loading it: size, precision, memory it will need. */
export interface ModelSummary {
  /** Human name of the architecture, e.g. "LLaMA". */
  architecture: string;
  modelType: ModelType;
  parameterCount: number;
  layers: number;
  hiddenSize: number;
  vocabSize: number;
  maxPositions: number;
  dtypes: WeightDType[];
  /** Bytes of weight data the engine reads from disk. */
  weightBytes: number;
  /**
   * Memory to run the model on one sequence of the full context length: the weights as the engine
   * keeps them (F16 and BF16 matrices in 2 bytes, the rest in 4) plus a float32 key/value cache and
   * one row of logits.
   */
  estimatedRunBytes: number;
}

/** Where a model stands in the FAS pipeline: the original ANN, after stage 1, after stage 2. */
export type ModelStage = 'ann' | 'qcfs' | 'calibrated';

/** The spiking part of a converted folder (spiking_config.json), when there is one. */
export interface SpikingInfo {
  levels: number;
  timesteps: number;
  signed: boolean;
  calibration: 'none' | 'layer' | 'neuron';
  /** 'ffn': spikes at the FFN site only (the FAS paper's recipe); 'all': every matrix product on spikes. */
  scope: 'ffn' | 'all';
}

export interface ModelEntry {
  id: string;
  name: string;
  path: string;
  stage: ModelStage;
  spiking: SpikingInfo | null;
  /** The model this one was made from (lineage), when the app made it. */
  parentId: string | null;
  /** The bundled demo model. */
  builtIn: boolean;
  addedAt: string;
  /** null when the folder can no longer be opened; `problem` then says why. */
  summary: ModelSummary | null;
  problem: string | null;
  warnings: string[];
}

/** Named settings a user saved for a form, e.g. a fine-tuning recipe. */
export interface Preset {
  name: string;
  /** The form's values, as JSON. */
  values: Record<string, unknown>;
  savedAt: string;
}

/** A cluster job: the model, the data and the job folder, plus any stage-1 setting (the finetune job's names and defaults). */
export interface ClusterExportParams {
  modelDir: string;
  dataPath: string;
  jobDir: string;
  /** "all" (every matrix product spike-driven) is refused for now. */
  scope?: 'ffn' | 'all';
  steps?: number;
  batchSize?: number;
  blockSize?: number;
  gradAccum?: number;
  lr?: number;
  thresholdLr?: number;
  seed?: number;
  qcfs?: { levels?: number; initialLambda?: number };
  timesteps?: number;
  [setting: string]: unknown;
}

export interface ClusterExportResult {
  jobDir: string;
  steps: number;
  tokensPerStep: number;
  trainBlocks: number;
  validationBlocks: number;
  notes: string[];
  /** Estimated bytes per GPU with DDP and with FSDP on that many GPUs (null: the batch does not split). */
  memory: Array<{ gpus: number; ddp: number | null; fsdp: number | null }>;
}

/** Every request: its parameters and its result. */
export interface ApiMethods {
  'app.info': { params: Record<string, never>; result: AppInfo };
  'system.hardware': { params: Record<string, never>; result: HardwareInfo };
  'models.list': { params: Record<string, never>; result: ModelEntry[] };
  /** Validates a folder and adds it to the library; a rejected folder's error says why in plain words. */
  'models.open': { params: { path: string }; result: ModelEntry };
  /** Removes a model from the library (its folder stays on disk). */
  'models.remove': { params: { id: string }; result: ModelEntry[] };
  /** A new name for a model of the library (its folder stays as it is). */
  'models.rename': { params: { id: string; name: string }; result: ModelEntry[] };
  /** Starts (queues) a job; `params` are checked against the kind's own schema. */
  'jobs.start': { params: { kind: string; params: unknown }; result: JobRecord };
  'jobs.list': { params: Record<string, never>; result: JobRecord[] };
  'jobs.get': { params: { id: string }; result: JobRecord };
  'jobs.cancel': { params: { id: string }; result: JobRecord };
  /**
   * Asks a running training or calibration run to stop at its next checkpoint (training: after the
   * step in progress; calibration: after the layer in progress); it then shows as 'paused', and
   * 'jobs.resume' continues it in the same run.
   */
  'jobs.pause': { params: { id: string }; result: JobRecord };
  /** The chart points a job reported so far, oldest first. */
  'jobs.metrics': { params: { id: string }; result: Array<Record<string, number>> };
  /** Saved settings of one kind of form (a wizard), sorted by name. */
  'presets.list': { params: { kind: string }; result: Preset[] };
  /** Saves settings under a name, replacing a preset of the same name; returns the kind's presets. */
  'presets.save': { params: { kind: string; name: string; values: Record<string, unknown> }; result: Preset[] };
  'presets.delete': { params: { kind: string; name: string }; result: Preset[] };
  /** The memory a job on a library model will need, part by part, against this computer's free memory. */
  'models.estimate': {
    /**
     * neuronPositions (calibrate): how many positions have their own value per neuron, 1 by default;
     * the block size with the FAS reference recipe, maxPositions with per-position values.
     */
    params: { id: string; job: MemoryJob; batchSize: number; blockSize: number; timesteps?: number; neuronPositions?: number };
    result: MemoryEstimate;
  };
  /** The default settings of a job kind (the values its schema fills in), for a wizard's form. */
  'jobs.defaults': { params: { kind: string }; result: Record<string, unknown> };
  /** The bounds of a job kind's numeric settings (from its schema), by name ("qcfs.levels" for a nested one), for a wizard's checks. */
  'jobs.limits': { params: { kind: string }; result: Record<string, NumberLimits> };
  /** Whether a stopped training or calibration run can continue, and from which checkpoint. */
  'jobs.resumeInfo': { params: { id: string }; result: ResumeInfo };
  /**
   * Continues a stopped (paused, cancelled, interrupted, or failed after a checkpoint) training or
   * calibration run from its last checkpoint, or from the beginning when it saved none: the same run
   * (same id, same run folder), queued again with its chart points, log and "before" measurements kept.
   */
  'jobs.resume': { params: { id: string }; result: JobRecord };
  /**
   * Writes a folder that runs FAS stage 1 on a GPU cluster with torchrun (the data tokenised here, the
   * settings, the script, launch.sh and a README with the memory each GPU needs).
   */
  'cluster.exportJob': { params: ClusterExportParams; result: ClusterExportResult };
  /** Checks the model a finished cluster job wrote and adds it to the library as a child of the exported model. */
  'cluster.importJob': { params: { jobDir: string }; result: ModelEntry };
  /** The bundled public-domain corpora that are installed, to train on. */
  'data.corpora': { params: Record<string, never>; result: TrainingCorpus[] };
  /** Checks training data (a .txt or .jsonl file, or a folder of .txt/.md files); a refusal says why. */
  'data.check': { params: { path: string }; result: DataCheck };
  /** The evaluation tasks that come with the app, with what each measures. */
  'eval.tasks': { params: Record<string, never>; result: EvalTask[] };
  /** The HTML report a finished evaluation run saved in its run folder, to save elsewhere or open. */
  'jobs.report': { params: { id: string }; result: ReportFile };
  /** Saved conversations, most recently changed first. */
  'chats.list': { params: Record<string, never>; result: ChatSummary[] };
  /** A conversation, with the text so far of a reply being written. */
  'chats.get': { params: { id: string }; result: Chat };
  'chats.create': {
    /** `title`: a name from the start (e.g. which side of a comparison it is); else the first message names it. */
    params: { modelId: string; title?: string; mode?: ChatMode; systemPrompt?: string; sampling?: ChatSampling };
    result: Chat;
  };
  /** Renames a conversation or changes its settings (they apply from the next reply). */
  'chats.update': {
    params: { id: string; title?: string; modelId?: string; mode?: ChatMode; systemPrompt?: string; sampling?: ChatSampling };
    result: Chat;
  };
  'chats.delete': { params: { id: string }; result: ChatSummary[] };
  'chats.export': { params: { id: string; format: 'markdown' | 'json' }; result: ChatExport };
  /**
   * Adds the user's message and starts the reply, which streams as 'chat.delta' events and ends with
   * 'chat.done'. Resolves once the reply has started (after loading the model when needed).
   */
  'chats.send': { params: { id: string; text: string }; result: Chat };
  /** Replaces the last reply with a new one (or answers a last message that has none). */
  'chats.regenerate': { params: { id: string }; result: Chat };
  /** Extends the last reply. */
  'chats.continue': { params: { id: string }; result: Chat };
  /** Stops the reply being written at once; resolves with the conversation once it has stopped. */
  'chats.stop': { params: { id: string }; result: Chat };
}

/** The jobs a memory estimate is made for. */
export type MemoryJob = 'finetune' | 'train' | 'calibrate' | 'chat' | 'evaluate';
export type MemoryVerdict = 'fits' | 'tight' | 'too-big';

/** One item of a memory estimate, e.g. the optimizer state. */
export interface MemoryPart {
  id: 'weights' | 'spikeWeights' | 'gradients' | 'optimizer' | 'activations' | 'backward' | 'work' | 'kvCache' | 'cache' | 'logits';
  label: string;
  bytes: number;
  /** How it was counted, e.g. "2 × 124,439,808 values × 4 bytes". */
  how: string;
}

export interface MemoryEstimate {
  job: MemoryJob;
  batchSize: number;
  blockSize: number;
  /** Timesteps counted: T for spiking jobs, 1 otherwise. */
  timesteps: number;
  /** Calibrate: the positions counted with their own value per neuron, when more than the one row. */
  neuronPositions?: number;
  parts: MemoryPart[];
  totalBytes: number;
  /** This computer's free memory when the estimate was made. */
  freeBytes: number;
  verdict: MemoryVerdict;
  /** The verdict in words, with what to do, e.g. "Will not fit: … Lower the batch or block size." */
  advice: string;
}

/** What a finished training job (kind "train" or "finetune") returns as its result. */
export interface TrainingResult {
  /** The model folder it wrote. */
  outDir: string;
  steps: number;
  tokensSeen: number;
  /**
   * Validation perplexity before the first step and after the last (with QCFS in stage 1); null when
   * not measured (no validation text). A resumed run reports the values its checkpoint kept.
   */
  perplexityBefore: number | null;
  perplexityAfter: number | null;
  /** Stage 1: the original ANN's perplexity before fine-tuning. */
  annPerplexityBefore: number | null;
  /** Stage 1: the learned QCFS threshold lambda of each layer. */
  finalLambdas: number[] | null;
}

/** The last checkpoint of a training run. */
export interface TrainingCheckpoint {
  kind: 'training';
  /** The step it continues from. */
  step: number;
  /** The run's total steps. */
  steps: number;
  savedAt: string;
}

/** Where a stopped calibration run continues: its next stage (and layer), in words. */
export interface CalibrationCheckpoint {
  kind: 'calibration';
  /** E.g. "the fine pass, layer 3 of 4", "the joint pass", "writing the model". */
  next: string;
  savedAt: string;
}

export interface ResumeInfo {
  /** 'jobs.resume' will start the run again; when false, `reason` says why in words. */
  canResume: boolean;
  reason: string | null;
  /** Where it continues from; null when it stopped before saving one (it then starts from the beginning). */
  checkpoint: TrainingCheckpoint | CalibrationCheckpoint | null;
  /** A later run that writes to the same output folder (it replaced this one's output), when there is one. */
  resumedBy: string | null;
}

export interface TrainingCorpus {
  id: string;
  title: string;
  description: string;
  /** The folder of text files to train on. */
  path: string;
}

/** Training data as training will read it. */
export interface DataCheck {
  /** Absolute path. */
  path: string;
  format: 'text' | 'jsonl';
  files: number;
  bytes: number;
}

/** What a finished calibration job (kind "calibrate", FAS stage 2) returns (core/calibration/report.ts writes it). */
export interface CalibrationResult {
  /** The calibrated model folder it wrote. */
  outDir: string;
  timesteps: number;
  level: 'layer' | 'neuron';
  /** Calibration sequences used, and their length. */
  samples: number;
  blockSize: number;
  /** Per layer, the align error (mean squared error against the QCFS teacher at the FFN site) at each stage. */
  layers: CalibrationLayer[];
  /** Mean KL of the logits on the calibration text with the values kept; null when not measured. */
  calibrationKl: number | null;
  /** The joint pass (per neuron, with joint epochs); absent when it did not run. */
  joint?: CalibrationJoint;
  /** Held-out measurements after each finished stage; absent without held-out data. */
  evaluations: { before?: CalibrationEvaluation; coarse?: CalibrationEvaluation; fine?: CalibrationEvaluation; joint?: CalibrationEvaluation };
  /** The recipe that ran (absent for a scope 'all' model, which needs none); also in spiking.safetensors' metadata. */
  recipe?: CalibrationRecipeRecord;
  /** What was and was not optimised, in words. */
  scope: string;
  /** A model spiking at every layer (scope 'all'): nothing to calibrate; the folder was written at `timesteps`. */
  notNeeded?: boolean;
}

/** The recipe a calibration followed: this app's ('app') or the FAS reference code's ('paper'). */
export interface CalibrationRecipeRecord {
  name: 'app' | 'paper';
  /** Where every layer started: a searched (theta, v0), or the reference code's fixed one. */
  start: 'searched' | 'theta = 0.6 lambda, v0 = 0.2 theta';
  /** Fine pass epochs per layer (0: none). */
  fineEpochs: number;
  /** What the fine and joint passes fit: per neuron (0), or per (position, neuron) for this many position rows. */
  positions: number;
  /** 0: no joint pass. */
  jointEpochs: number;
  jointLr: number;
  /** The joint pass's KL summed over the batch, divided by its positions, or by its sequences (batchmean). */
  klReduction: 'position' | 'batchmean';
  alignWeight: number;
  /** Which of the joint pass's epochs gives the result. */
  keptEpoch: 'lowest KL on the calibration text' | 'last';
}

export interface CalibrationLayer {
  layer: number;
  /** The layer's QCFS threshold from stage 1. */
  lambda: number;
  /** Align error of the uncalibrated model (theta = lambda, v0 = theta / 2). */
  before: number | null;
  /** The coarse pass: one threshold and initial potential for the layer; `kept` false when undone (it raised the KL). */
  coarse: { theta: number; v0: number; loss: number; startLoss: number; referenceLoss: number; kept: boolean } | null;
  /** The fine pass: the align error after each epoch (the last is the result when kept). */
  fine: { losses: number[]; kept: boolean } | null;
}

/**
 * The joint pass: after the per-layer passes, every layer's neurons fitted at once on the KL of the
 * logits (QCFS teacher against the spiking model) plus alignWeight times the summed align losses.
 */
export interface CalibrationJoint {
  /** The KL on the calibration text with the values the joint pass started from. */
  startKl: number;
  /** Per epoch: the mean KL and the summed align losses seen while stepping, then the KL on the calibration text. */
  epochs: { kl: number; align: number; calibrationKl: number }[];
  /** The epoch whose values were kept (1-based, the lowest KL on the calibration text); 0 when none beat startKl, so the values from before the pass were kept. */
  kept: number;
}

export interface CalibrationEvaluation {
  qcfsPerplexity: number;
  snnPerplexity: number;
  /** Mean KL(QCFS || SNN) of the logits per scored position, in nats. */
  kl: number;
  tokens: number;
}

/** The bounds of a numeric setting, as its schema has them; null where there is none. */
export interface NumberLimits {
  /** The smallest value allowed; with `above`, the value it must be above. */
  min: number | null;
  above: boolean;
  max: number | null;
  whole: boolean;
}

/** An evaluation task that comes with the app (core/eval/tasks.ts). */
export interface EvalTask {
  name: string;
  description: string;
  kind: 'perplexity' | 'multiple-choice';
}

/** One (mode, T) measurement of an evaluation. */
export interface EvaluationRow {
  mode: 'ann' | 'qcfs' | 'snn';
  /** T for the spiking model; null for the ANN and QCFS models. */
  timesteps: number | null;
  perplexity?: number;
  acc?: number;
  accNorm?: number;
}

/** What an evaluation measures (core/eval/evaluate.ts); a finished "evaluate" job adds its HTML report's path. */
export type EvaluationReport = Omit<EvaluationResult, 'reportHtml'>;

/** What a finished evaluation job (kind "evaluate") returns. */
export interface EvaluationResult {
  model: { dir: string; architecture: string; parameters: number; stage: string };
  task: { name: string; kind: 'perplexity' | 'multiple-choice'; size: number; chance?: number };
  rows: EvaluationRow[];
  /** Firing rate of each layer's neurons, at the model's own T. */
  firing?: { timesteps: number; perLayer: number[] };
  /** Energy per token (MACs x 4.6 pJ, ACs x 0.9 pJ), and what was counted. */
  energy?: {
    timesteps: number;
    annMacJoules: number;
    snnMacJoules: number;
    snnAcJoules: number;
    counted: string;
    /** A model spiking at every layer: each site's mean |count| per value and AC energy per token. */
    perSite?: Array<{ site: string; meanCount: number; acJoules: number }>;
  };
  /** Where the spiking model collapses (too few timesteps), in words. */
  warnings: string[];
  createdAt: string;
  /** The self-contained HTML report in the run folder. */
  reportHtml: string;
}

/** A report file's content, with a file name to save it under. */
export interface ReportFile {
  /** Where it is saved now. */
  path: string;
  fileName: string;
  mimeType: string;
  text: string;
}

export type MethodName = keyof ApiMethods;
export type ParamsOf<M extends MethodName> = ApiMethods[M]['params'];
export type ResultOf<M extends MethodName> = ApiMethods[M]['result'];

/** Streamed events, pushed from the core to every connected UI. */
export interface ApiEvents {
  'job.progress': JobProgress;
  'chat.delta': ChatDelta;
  'chat.done': ChatDone;
  'chat.model': ChatModelNotice;
}

// ---- Chat -----------------------------------------------------------------------------------

/**
 * How a model runs in a chat: as the original network ('ann': a converted model's weights with the
 * original activation), or, for a converted model only, as the spiking network with `timesteps`
 * (T, 1..1024) timesteps per token ('snn').
 */
export type ChatMode = { kind: 'ann' } | { kind: 'snn'; timesteps: number };

/** A type rather than an interface, so it passes as a preset's plain values. */
export type ChatSampling = {
  /** 0 = greedy (always the most likely token). */
  temperature: number;
  /** Sample among the k most likely tokens; 0 = all. */
  topK: number;
  topP: number;
  /** 1 = off; above 1 discourages repeating tokens. */
  repetitionPenalty: number;
  maxTokens: number;
  /** null: a new random seed for every reply (saved with the reply). */
  seed: number | null;
};

/**
 * Why a reply ended: 'eos' the model ended it, 'stop' it began the user's next turn, 'length' it
 * reached the most tokens allowed, 'context' the model's context was full, 'aborted' the user
 * stopped it, 'error' the engine failed (see `error`).
 */
export type ReplyStopReason = 'eos' | 'stop' | 'length' | 'context' | 'aborted' | 'error';

export interface ReplyStats {
  modelId: string;
  modelName: string;
  mode: ChatMode;
  /** Generated tokens (a continued reply counts all its parts). */
  tokens: number;
  /** Prompt tokens run for the reply. */
  promptTokens: number;
  /** Prompt tokens reused from the previous reply's cache. */
  cachedTokens: number;
  /** null when no token came. */
  timeToFirstTokenMs: number | null;
  tokensPerSecond: number;
  seconds: number;
  seed: number;
  stopReason: ReplyStopReason;
  error: string | null;
  /** What the engine counted for the reply; null when it counted nothing (the reply failed or never began). */
  ops: ReplyOps | null;
  /** The part of the conversation the model did not see, as it no longer fit its context; null when all of it fit. */
  contextCut: ContextCut | null;
}

/** How a conversation was cut to fit the model's context, oldest part first. */
export interface ContextCut {
  /** Earlier messages left out. */
  leftOut: number;
  /** The oldest message kept lost its start too (a single message longer than the context allows). */
  trimmed: boolean;
}

/**
 * A reply's operations and energy estimate (fas-method.md section 5), per token over every position
 * the engine ran for it: the prompt's new tokens and the reply's (a continued reply: all its parts).
 */
export interface ReplyOps {
  /** Positions counted. */
  positions: number;
  /** Multiply-accumulates on real values per token. */
  macsPerToken: number;
  /** Accumulates caused by spikes per token; 0 for the ANN. */
  acsPerToken: number;
  /** MACs per token of the same positions through the ANN. */
  annMacsPerToken: number;
  /** Energy estimate per token: MACs x 4.6 pJ + ACs x 0.9 pJ. */
  picojoulesPerToken: number;
  /** The same for the ANN. */
  annPicojoulesPerToken: number;
  /** Spiking mode: per layer, the fraction of neuron slots (neuron, timestep, position) that fired; [] for the ANN. */
  firingRates: number[];
  /**
   * A model spiking at every layer (scope 'all'): per site, the mean spike count per value and its
   * energy per token; absent otherwise.
   */
  sites?: ReplySiteOps[];
  /** What the counts include and leave out, in words. */
  counted: string;
}

export interface ReplySiteOps {
  /** spiking.safetensors' name: attn_in, q, v, attn_out, ffn_in, qcfs (the FFN site), head_in. */
  site: string;
  meanCount: number;
  picojoulesPerToken: number;
}

export interface ChatMessage {
  id: string;
  role: 'user' | 'assistant';
  text: string;
  createdAt: string;
  /** How a reply was made; null for the user's messages and while a reply is being written. */
  stats: ReplyStats | null;
}

export interface Chat {
  id: string;
  /** '' until the first message names it, or the user does. */
  title: string;
  createdAt: string;
  updatedAt: string;
  /** The library model that writes the next reply. */
  modelId: string;
  modelName: string;
  mode: ChatMode;
  systemPrompt: string;
  sampling: ChatSampling;
  messages: ChatMessage[];
  /** The id of the reply being written now, or null. */
  replying: string | null;
}

export interface ChatSummary {
  id: string;
  title: string;
  modelName: string;
  updatedAt: string;
  messageCount: number;
  /** Why the conversation's file cannot be read; null when it can. */
  problem: string | null;
}

/** A conversation as a file for the user to save. */
export interface ChatExport {
  fileName: string;
  mimeType: string;
  text: string;
}

export interface ChatDelta {
  chatId: string;
  messageId: string;
  /** New text of the reply. */
  text: string;
}

export interface ChatDone {
  chatId: string;
  /** The finished reply, with its stats. */
  message: ChatMessage;
}

/** A model being loaded for chatting, ready, or unloaded to make room for another. */
export interface ChatModelNotice {
  modelId: string;
  modelName: string;
  state: 'loading' | 'ready' | 'unloaded';
  message: string;
}

/**
 * 'paused': stopped at a checkpoint on request ('jobs.pause'), to be continued by 'jobs.resume';
 * 'interrupted': the app stopped while it ran. A resumed run goes back to 'queued'.
 */
export type JobState = 'queued' | 'running' | 'paused' | 'done' | 'failed' | 'cancelled' | 'interrupted';

export interface JobProgress {
  jobId: string;
  kind: string;
  state: JobState;
  /** 0..1, or null when unknown. */
  fraction: number | null;
  message: string;
  /** Seconds left, measured by the job from the pace of its current stage; null when it cannot tell yet. */
  etaSeconds: number | null;
  /** How many times the run was resumed. */
  resumes: number;
  /** The record's revision after this change (JobRecord's `revision`). */
  revision: number;
  /** Latest values of the job's chart series (loss, perplexity...), when it reports any. */
  metrics?: Record<string, number>;
}

/** What a finished conversion (kind "convert": stage 1, stage 2 and the evaluation in one run) returns. */
export interface ConversionSummary {
  stage1: TrainingResult;
  calibration: CalibrationResult;
  evaluation: EvaluationReport;
  /** Where the spiking model is: the calibrated folder. */
  modelDir: string;
}

/**
 * A job kind's settings as its run keeps them (its schema in core/jobs/kinds.ts fills the defaults and
 * is checked to fit these): the ones the app reads, and every other setting of the kind.
 */
interface JobParams {
  /** The model it reads. */
  modelDir: string;
  [setting: string]: unknown;
}
export interface TrainingParams extends JobParams {
  dataPath: string;
  /** The model folder it writes. */
  outDir: string;
  steps: number;
  scope: 'ffn' | 'all';
  /** Continue from the checkpoint in outDir. */
  resume: boolean;
}
export interface CalibrationParams extends JobParams {
  /** Absent for a model spiking at every layer, which is only written at T. */
  dataPath?: string;
  outDir: string;
  timesteps: number;
  level: 'layer' | 'neuron';
  /** This app's recipe or the FAS reference code's (CalibrationRecipeRecord['name']). */
  recipe: CalibrationRecipeRecord['name'];
  resume: boolean;
}
export interface EvaluationParams extends JobParams {
  task: string;
  timesteps: number[];
}
export interface ConversionParams extends JobParams {
  dataPath: string;
  /** The folder that receives stage1-qcfs and stage2-spiking. */
  outDir: string;
  timesteps: number;
  scope: 'ffn' | 'all';
}

/** Every job kind: its settings and its result. */
export interface JobKinds {
  train: { params: TrainingParams; result: TrainingResult };
  finetune: { params: TrainingParams; result: TrainingResult };
  calibrate: { params: CalibrationParams; result: CalibrationResult };
  evaluate: { params: EvaluationParams; result: EvaluationResult };
  convert: { params: ConversionParams; result: ConversionSummary };
}
export type JobKindName = keyof JobKinds;

/** A job of one kind as saved in its run folder, listed after a restart too. */
export interface JobRecordOf<K extends JobKindName> {
  id: string;
  kind: K;
  title: string;
  state: JobState;
  params: JobKinds[K]['params'];
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  fraction: number | null;
  message: string;
  etaSeconds: number | null;
  /** How many times it was resumed (0: never); each resume continues this same record. */
  resumes: number;
  /**
   * Counts the changes the core has told (each 'job.progress' event carries the new count): of two
   * copies of a record, the one with the higher revision is the newer, whatever order they arrived in.
   */
  revision: number;
  /** Seconds it ran, over all its parts (time spent paused or waiting is not counted). */
  runningSeconds: number;
  /** Its kind saves checkpoints: it can be paused ('jobs.pause') and, once stopped, resumed. */
  pausable: boolean;
  /** Set once it is done. */
  result: JobKinds[K]['result'] | null;
  error: string | null;
  runDir: string;
}

/** A job of any kind: `kind` tells which, and with it the type of its settings and result. */
export type JobRecord = { [K in JobKindName]: JobRecordOf<K> }[JobKindName];

export type EventName = keyof ApiEvents;
export type ApiEvent = { [E in EventName]: { name: E; data: ApiEvents[E] } }[EventName];

/** Error codes a UI can act on; `message` is always written for people. */
export type ApiErrorCode = 'bad_request' | 'not_found' | 'unauthorized' | 'failed';

export interface ApiErrorBody {
  code: ApiErrorCode;
  message: string;
}

/** Wire format of a response, identical over IPC and HTTP. */
export type ApiResponse<T> = { ok: true; result: T } | { ok: false; error: ApiErrorBody };

/** What the UI programs against; implemented by the IPC and HTTP transports. */
export interface FasApi {
  call<M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>>;
  /**
   * Subscribes to core events; returns an unsubscribe function. `onConnected` is called each time the
   * event stream (re)connects: from then on no event is missed, so a view that pairs saved data with
   * live events reads its data then, and again after a reconnect.
   */
  onEvent(listener: (event: ApiEvent) => void, onConnected?: () => void): () => void;
  /**
   * Shows a finished evaluation's HTML report where its charts can run: the desktop app hands the
   * file to the system's browser; in a browser it opens in a new tab (served by the app server).
   */
  openReport(jobId: string): Promise<void>;
}

/** What the Electron preload exposes as `window.fasBridge` (raw responses, no exceptions across the bridge). */
export interface FasBridge {
  call(method: string, params: unknown): Promise<ApiResponse<unknown>>;
  onEvent(listener: (event: ApiEvent) => void): () => void;
  openReport(jobId: string): Promise<ApiResponse<null>>;
}

/** IPC channel names, as types: the sandboxed preload cannot import modules, so it spells them out and the compiler checks them. */
export type IpcCallChannel = 'fas:call';
export type IpcEventChannel = 'fas:event';
export type IpcOpenReportChannel = 'fas:open-report';
