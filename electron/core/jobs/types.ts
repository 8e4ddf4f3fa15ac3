// What a job is: a plain async function of its parameters and a context. The same function runs
// in a child process under the JobManager (desktop app, HTTP server) and in-process under the CLI.

export interface JobProgressUpdate {
  /** 0..1, or null when unknown. */
  fraction: number | null;
  message: string;
  /** Seconds left, from the pace of the current stage (jobs/eta.ts); absent or null when unknown. */
  etaSeconds?: number | null;
  /** Numbers for live charts (loss, perplexity, tokens/s...), keyed by series name. */
  metrics?: Record<string, number>;
}

export interface JobContext {
  /** The job's own folder in the workspace: logs, metrics, reports (under the CLI, scratch removed when the job ends). */
  runDir: string;
  /** Aborted when the user cancels; long loops and native calls poll it. */
  signal: AbortSignal;
  progress(update: JobProgressUpdate): void;
  log(message: string): void;
}

export interface JobDefinition<P = unknown, R = unknown> {
  kind: string;
  run(params: P, ctx: JobContext): Promise<R>;
}

/** Thrown (or rethrown) by a job that stopped because its signal was aborted. */
export class JobCancelledError extends Error {
  constructor() {
    super('Cancelled');
    this.name = 'JobCancelledError';
  }
}

/** Messages between the JobManager and a job's child process. */
export type ToJobProcess = { type: 'start'; modulePath: string; params: unknown; runDir: string } | { type: 'cancel' };
export type FromJobProcess =
  | { type: 'progress'; update: JobProgressUpdate }
  | { type: 'log'; message: string }
  | { type: 'done'; result: unknown }
  | { type: 'cancelled' }
  | { type: 'failed'; message: string };
