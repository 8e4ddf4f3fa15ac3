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
   * Memory to run the model on one sequence of the full context length: weights as float32 (the
   * engine converts 16-bit weights) plus a float32 key/value cache and one row of logits.
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

/** Every request: its parameters and its result. */
export interface ApiMethods {
  'app.info': { params: Record<string, never>; result: AppInfo };
  'system.hardware': { params: Record<string, never>; result: HardwareInfo };
  'models.list': { params: Record<string, never>; result: ModelEntry[] };
  /** Validates a folder and adds it to the library; a rejected folder's error says why in plain words. */
  'models.open': { params: { path: string }; result: ModelEntry };
  /** Removes a model from the library (its folder stays on disk). */
  'models.remove': { params: { id: string }; result: ModelEntry[] };
  /** Starts (queues) a job; `params` are checked against the kind's own schema. */
  'jobs.start': { params: { kind: string; params: unknown }; result: JobRecord };
  'jobs.list': { params: Record<string, never>; result: JobRecord[] };
  'jobs.get': { params: { id: string }; result: JobRecord };
  'jobs.cancel': { params: { id: string }; result: JobRecord };
  /** The chart points a job reported so far, oldest first. */
  'jobs.metrics': { params: { id: string }; result: Array<Record<string, number>> };
  /** Saved settings of one kind of form (a wizard), sorted by name. */
  'presets.list': { params: { kind: string }; result: Preset[] };
  /** Saves settings under a name, replacing a preset of the same name; returns the kind's presets. */
  'presets.save': { params: { kind: string; name: string; values: Record<string, unknown> }; result: Preset[] };
  'presets.delete': { params: { kind: string; name: string }; result: Preset[] };
}

export type MethodName = keyof ApiMethods;
export type ParamsOf<M extends MethodName> = ApiMethods[M]['params'];
export type ResultOf<M extends MethodName> = ApiMethods[M]['result'];

/** Streamed events, pushed from the core to every connected UI. */
export interface ApiEvents {
  'job.progress': JobProgress;
}

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled' | 'interrupted';

export interface JobProgress {
  jobId: string;
  kind: string;
  state: JobState;
  /** 0..1, or null when unknown. */
  fraction: number | null;
  message: string;
  etaSeconds: number | null;
  /** Latest values of the job's chart series (loss, perplexity...), when it reports any. */
  metrics?: Record<string, number>;
}

/** A job as saved in its run folder, listed after a restart too. */
export interface JobRecord {
  id: string;
  kind: string;
  title: string;
  state: JobState;
  params: unknown;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  fraction: number | null;
  message: string;
  etaSeconds: number | null;
  result: unknown;
  error: string | null;
  runDir: string;
}

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
  /** Subscribes to core events; returns an unsubscribe function. */
  onEvent(listener: (event: ApiEvent) => void): () => void;
}

/** What the Electron preload exposes as `window.fasBridge` (raw responses, no exceptions across the bridge). */
export interface FasBridge {
  call(method: string, params: unknown): Promise<ApiResponse<unknown>>;
  onEvent(listener: (event: ApiEvent) => void): () => void;
}

/** IPC channel names, as types: the sandboxed preload cannot import modules, so it spells them out and the compiler checks them. */
export type IpcCallChannel = 'fas:call';
export type IpcEventChannel = 'fas:event';
