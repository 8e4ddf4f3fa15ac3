// Runs jobs one at a time, each in its own child process, keeps their records in the workspace
// (runs/<id>/run.json) and streams their progress as 'job.progress' events. One process at a time
// runs jobs in a workspace (storage/process-lock); a failure to write a run's files fails that job
// with a message and never escapes as an unhandled rejection.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import type { ApiEvent, JobRecord } from '../../api/contract.js';
import { ApiError } from '../api/errors.js';
import { compiledPath } from '../compiled-path.js';
import { readJsonIfExists, writeJsonAtomic } from '../storage/json-file.js';
import { recoverInterruptedSwaps } from '../storage/owned-folder.js';
import { describeHolder, LOCK_FILE, ProcessLock, type LockHolder } from '../storage/process-lock.js';
import { cancelGraceMs } from './cancel-grace.js';
import type { FromJobProcess, JobProgressUpdate, ToJobProcess } from './types.js';

export interface JobKind {
  /** The module whose default export is the JobDefinition: relative to jobs/ (e.g. "./kinds/train.js"), or absolute. */
  module: string;
  /** Checks (and fills defaults of) the parameters before the job is queued. */
  params: z.ZodType;
  title(params: unknown): string;
}

export interface JobManagerOptions {
  workspaceDir: string;
  kinds: Record<string, JobKind>;
  emit(event: ApiEvent): void;
  /** How long a cancelled job may take to stop before it is killed (default: long enough to save its model's checkpoint). */
  cancelGraceMs?: number;
  /** How this process is named to another one that finds the workspace in use (default: its command line). */
  processDescription?: string;
  /**
   * Runs when a job has succeeded, before it is marked done (e.g. to add the model it made to the
   * library), so whoever sees "done" also sees what it did. A failure is told in the job's message.
   */
  afterDone?(job: JobRecord): Promise<unknown>;
}

const SAVE_INTERVAL_MS = 2000;

interface RunningJob {
  id: string;
  child: ChildProcess;
  lastSave: number;
  killTimer?: NodeJS.Timeout;
}
const TERMINAL = new Set(['done', 'failed', 'cancelled', 'interrupted']);

export class JobManager {
  private readonly runsDir: string;
  private readonly records = new Map<string, JobRecord>();
  private readonly queue: string[] = [];
  private running: RunningJob | null = null;
  /** Per job, the last pending write of run.json: writes are chained so an older state never lands last. */
  private readonly saves = new Map<string, Promise<void>>();
  /** Per job, the last pending line appended to its log or metrics: chained so lines keep their order. */
  private readonly appends = new Map<string, Promise<void>>();
  private readonly lock: ProcessLock;
  /** Whether the runs left unfinished by an earlier process were marked and cleaned up. */
  private recovered = false;

  constructor(private readonly options: JobManagerOptions) {
    this.runsDir = join(options.workspaceDir, 'runs');
    this.lock = new ProcessLock(join(options.workspaceDir, LOCK_FILE), options.processDescription);
  }

  /**
   * Loads saved runs. When this process gets the workspace, a job that was running when the app
   * stopped is marked interrupted and the saves it left half done are recovered or cleaned; while
   * another live process holds the workspace, its jobs are shown as they are and left alone.
   */
  async init(): Promise<void> {
    await mkdir(this.runsDir, { recursive: true });
    for (const entry of await readdir(this.runsDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const record = await readJsonIfExists<JobRecord>(join(this.runsDir, entry.name, 'run.json')).catch(() => null);
      if (record) this.records.set(record.id, record);
    }
    await this.takeWorkspace();
  }

  /** Takes the workspace lock (once free); returns the live process that holds it otherwise. */
  private async takeWorkspace(): Promise<LockHolder | null> {
    const holder = this.lock.tryAcquire();
    if (holder || this.recovered) return holder;
    this.recovered = true;
    for (const record of this.records.values()) {
      if (TERMINAL.has(record.state) && record.state !== 'failed' && record.state !== 'cancelled') continue;
      const wasRunning = !TERMINAL.has(record.state);
      if (wasRunning) {
        record.state = 'interrupted';
        record.message = 'The app stopped while this job was running. Its last checkpoint, if any, is kept.';
        record.finishedAt ??= new Date().toISOString();
      }
      // A job killed mid-save leaves hidden temporaries (a half-written checkpoint) beside its output.
      const outDir = (record.params as { outDir?: unknown } | null)?.outDir;
      const notes =
        typeof outDir === 'string' ? await recoverInterruptedSwaps(outDir).catch((err: Error) => [`Could not clean up ${outDir}: ${err.message}`]) : [];
      for (const note of notes) await this.append(record, 'log.txt', note).catch(() => undefined);
      if (notes.length > 0) record.message = `${record.message} ${notes.join(' ')}`;
      if (wasRunning || notes.length > 0) await this.save(record).catch((err: unknown) => this.report(err));
      if (notes.length > 0) this.publish(record);
    }
    return null;
  }

  /** Releases the workspace for another process (the app's own end, and tests). */
  close(): void {
    this.lock.release();
  }

  list(): JobRecord[] {
    return [...this.records.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  get(id: string): JobRecord {
    const record = this.records.get(id);
    if (!record) throw new ApiError('not_found', `No job with id "${id}".`);
    return record;
  }

  async start(kind: string, rawParams: unknown): Promise<JobRecord> {
    const holder = await this.takeWorkspace();
    if (holder) {
      throw new ApiError(
        'bad_request',
        `Another program runs the jobs of this workspace (${this.options.workspaceDir}): ${describeHolder(holder)}. ` +
          'Start the job there, or close it and try again.',
      );
    }
    const definition = this.options.kinds[kind];
    if (!definition) throw new ApiError('bad_request', `Unknown job kind "${kind}".`);
    const parsed = definition.params.safeParse(rawParams ?? {});
    if (!parsed.success) {
      const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ');
      throw new ApiError('bad_request', `Invalid settings for this job: ${detail}`);
    }
    const params = parsed.data;
    const id = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
    const runDir = join(this.runsDir, id);
    await mkdir(runDir, { recursive: true });
    const record: JobRecord = {
      id,
      kind,
      title: definition.title(params),
      state: 'queued',
      params,
      createdAt: new Date().toISOString(),
      startedAt: null,
      finishedAt: null,
      fraction: null,
      message: 'Waiting for the previous job to finish',
      etaSeconds: null,
      result: null,
      error: null,
      runDir,
    };
    this.records.set(id, record);
    await this.save(record);
    this.queue.push(id);
    this.publish(record);
    this.runNext();
    return record;
  }

  /** Cancels a queued job at once; asks a running one to stop, and kills it after the grace period. */
  async cancel(id: string): Promise<JobRecord> {
    const record = this.get(id);
    if (record.state === 'queued') {
      this.queue.splice(this.queue.indexOf(id), 1);
      await this.finish(record, 'cancelled', 'Cancelled before it started');
    } else if (this.running?.id === id && !this.running.killTimer) {
      this.stop(this.running, this.options.cancelGraceMs ?? (await cancelGraceMs(record.params)));
      record.message = 'Cancelling…';
      this.publish(record);
    }
    return record;
  }

  /** The chart series a job reported, in order (runs/<id>/metrics.jsonl); a torn line (a crash mid-write) is skipped. */
  async metrics(id: string): Promise<Array<Record<string, number>>> {
    const record = this.get(id);
    await this.appends.get(id)?.catch(() => undefined);
    const text = await readFile(join(record.runDir, 'metrics.jsonl'), 'utf8').catch(() => '');
    const rows: Array<Record<string, number>> = [];
    for (const [i, line] of text.split('\n').entries()) {
      if (!line) continue;
      try {
        rows.push(JSON.parse(line) as Record<string, number>);
      } catch {
        console.warn(`Skipped line ${i + 1} of ${join(record.runDir, 'metrics.jsonl')}: it was cut off (the job stopped while writing it).`);
      }
    }
    return rows;
  }

  /** Waits until a job reaches a final state (for the CLI and tests). */
  waitFor(id: string): Promise<JobRecord> {
    return new Promise((resolve) => {
      const check = () => {
        const record = this.get(id);
        if (TERMINAL.has(record.state)) void (this.saves.get(id) ?? Promise.resolve()).catch(() => undefined).then(() => resolve(record));
        else setTimeout(check, 50);
      };
      check();
    });
  }

  private runNext(): void {
    if (this.running || this.queue.length === 0) return;
    const id = this.queue.shift()!;
    const record = this.get(id);
    const child = fork(compiledPath('./job-process.js', import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const running: RunningJob = { id, child, lastSave: 0 };
    this.running = running;
    record.state = 'running';
    record.startedAt = new Date().toISOString();
    record.message = 'Starting';
    this.publish(record);
    let finished = false;
    let ended = false;
    // Every step below is guarded: a full disk or a deleted run folder fails this job, not the app.
    const guard = (work: Promise<unknown>) => work.catch((err: unknown) => this.onRunFault(record, running, err));
    child.on('message', (message: FromJobProcess) => {
      if (message.type === 'progress') void guard(this.onProgress(record, message.update));
      else if (message.type === 'log') void guard(this.append(record, 'log.txt', message.message));
      else {
        finished = true;
        if (message.type === 'done') void guard(this.finish(record, 'done', 'Finished', message.result));
        else if (message.type === 'cancelled') void guard(this.finish(record, 'cancelled', 'Cancelled'));
        else void guard(this.finish(record, 'failed', message.message));
      }
    });
    let processError: string | null = null;
    const end = (failure: string) => {
      if (ended) return;
      ended = true;
      if (running.killTimer) clearTimeout(running.killTimer);
      if (this.running === running) this.running = null;
      if (!finished) {
        if (processError)
          void guard(this.finish(record, 'failed', `The job's process could not be reached (${processError}). Its last checkpoint, if any, is kept.`));
        else if (running.killTimer) void guard(this.finish(record, 'cancelled', 'Cancelled (the job was stopped)'));
        else void guard(this.finish(record, 'failed', failure));
      }
      this.runNext();
    };
    child.on('exit', (code, signal) => end(`The job's process stopped unexpectedly (${signal ?? `exit code ${code}`}). Its last checkpoint, if any, is kept.`));
    // 'error': the process could not be started, or a message could not reach it (then it is stopped).
    child.on('error', (err) => {
      processError ??= err.message;
      if (child.pid === undefined) end(`The job's process could not start (${err.message}).`);
      else if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const modulePath = compiledPath(this.options.kinds[record.kind]!.module, import.meta.url);
    this.send(child, { type: 'start', modulePath, params: record.params, runDir: record.runDir });
  }

  /** Sends to a job's process; a failure shows up as the child's 'error' or 'exit' event, handled above. */
  private send(child: ChildProcess, message: ToJobProcess): void {
    if (!child.connected) return;
    child.send(message, (err) => {
      if (err) child.emit('error', err);
    });
  }

  /** Asks a running job to stop, and kills it when it has not stopped after `graceMs`. */
  private stop(running: RunningJob, graceMs: number): void {
    if (running.killTimer) return;
    this.send(running.child, { type: 'cancel' });
    running.killTimer = setTimeout(() => running.child.kill('SIGKILL'), graceMs);
  }

  /** The run's files could not be written (full disk, folder deleted): the job fails, saying why. */
  private onRunFault(record: JobRecord, running: RunningJob, err: unknown): void {
    const reason = err instanceof Error ? err.message : String(err);
    if (this.running === running && !TERMINAL.has(record.state)) {
      this.stop(running, this.options.cancelGraceMs ?? 10_000);
      void this.finish(record, 'failed', `The job was stopped: its run folder ${record.runDir} could not be written (${reason}).`).catch((e: unknown) =>
        this.report(e),
      );
    } else {
      this.report(err);
    }
  }

  /** Last resort for a failure with no job left to tell: the process's log, never a crash. */
  private report(err: unknown): void {
    console.error(`FAS job manager: ${err instanceof Error ? err.message : String(err)}`);
  }

  private async onProgress(record: JobRecord, update: JobProgressUpdate): Promise<void> {
    if (TERMINAL.has(record.state)) return;
    record.fraction = update.fraction;
    record.message = update.message;
    record.etaSeconds = estimateEta(record, update.fraction);
    // Publish before any await: the next update may arrive while this one is being written.
    this.publish(record, update.metrics);
    if (update.metrics) await this.append(record, 'metrics.jsonl', JSON.stringify(update.metrics));
    const now = Date.now();
    if (this.running && now - this.running.lastSave > SAVE_INTERVAL_MS) {
      this.running.lastSave = now;
      await this.save(record);
    }
  }

  private async finish(record: JobRecord, state: JobRecord['state'], message: string, result: unknown = null): Promise<void> {
    if (TERMINAL.has(record.state)) return;
    if (state === 'done' && this.options.afterDone) {
      try {
        await this.options.afterDone({ ...record, result });
      } catch (err) {
        message = `Finished, but ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    record.state = state;
    record.message = message;
    record.finishedAt = new Date().toISOString();
    record.etaSeconds = null;
    if (state === 'done') {
      record.fraction = 1;
      record.result = result;
    }
    if (state === 'failed') record.error = message;
    this.publish(record);
    // The state is final in memory already; a record that cannot be saved is told, not thrown.
    await this.save(record).catch((err: unknown) => this.report(err));
  }

  private publish(record: JobRecord, metrics?: Record<string, number>): void {
    const { id: jobId, kind, state, fraction, message, etaSeconds } = record;
    this.options.emit({ name: 'job.progress', data: { jobId, kind, state, fraction, message, etaSeconds, ...(metrics ? { metrics } : {}) } });
  }

  private append(record: JobRecord, file: string, line: string): Promise<void> {
    const previous = this.appends.get(record.id) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => appendFile(join(record.runDir, file), line + '\n'));
    this.appends.set(record.id, next);
    return next;
  }

  private save(record: JobRecord): Promise<void> {
    const previous = this.saves.get(record.id) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => writeJsonAtomic(join(record.runDir, 'run.json'), record));
    this.saves.set(record.id, next);
    return next;
  }
}

/** Remaining time from the elapsed time and the fraction done; null until there is something to go on. */
function estimateEta(record: JobRecord, fraction: number | null): number | null {
  if (!record.startedAt || fraction === null || fraction <= 0.01) return null;
  const elapsed = (Date.now() - Date.parse(record.startedAt)) / 1000;
  return Math.max(0, Math.round((elapsed * (1 - fraction)) / fraction));
}
