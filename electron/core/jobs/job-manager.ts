// Runs jobs one at a time, each in its own child process, keeps their records in the workspace
// (runs/<id>/run.json) and streams their progress as 'job.progress' events. One process at a time
// runs jobs in a workspace (storage/process-lock); a failure to write a run's files fails that job
// with a message and never escapes as an unhandled rejection.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import type { ApiEvent, CalibrationCheckpoint, JobRecord, TrainingCheckpoint } from '../../api/contract.js';
import { pushMetricRow, type MetricRow } from '../../shared/metric-rows.js';
import { ApiError } from '../api/errors.js';
import { compiledPath } from '../compiled-path.js';
import { readJsonIfExists, writeJsonAtomic } from '../storage/json-file.js';
import { recoverInterruptedSwaps } from '../storage/owned-folder.js';
import { describeHolder, LOCK_FILE, ProcessLock, type LockHolder } from '../storage/process-lock.js';
import { cancelGraceMs } from './cancel-grace.js';
import type { FromJobProcess, JobProgressUpdate, ToJobProcess } from './types.js';

/**
 * What the manager needs of a job kind: jobs/kinds.ts declares the app's kinds with their settings (P)
 * and result (R) from the contract; tests declare their own.
 */
export interface JobKind<P = unknown, R = unknown> {
  /** The module whose default export is the JobDefinition: relative to jobs/ (e.g. "./kinds/train.js"), or absolute. */
  module: string;
  /** Checks (and fills defaults of) the parameters before the job is queued. */
  params: z.ZodType<P>;
  title(params: P): string;
  /** How a stopped run of this kind continues from its checkpoint; absent: it cannot pause or resume. */
  resume?: Resumable;
  /** The models a finished run wrote, each with the model it was made from, in order (lineage); absent: none. */
  outputs?(params: P, result: R): ModelOutput[];
}

/** The settings of a resumable run that say where it continues: the output folder its checkpoint is in. */
export interface ResumableParams {
  outDir: string;
  /** A training run's total steps. */
  steps?: unknown;
}

/** A model folder a job wrote, and the folder of the model it was made from. */
export interface ModelOutput {
  from: string;
  made: string;
}

/** What a resumable kind declares: where its checkpoint is and how to read it. */
export interface Resumable {
  /** The checkpoint a stopped run with these settings would continue from; null when it saved none. */
  checkpoint(params: ResumableParams): Promise<TrainingCheckpoint | CalibrationCheckpoint | null>;
  /** The checkpoint's folder inside params.outDir, for messages. */
  dir: string;
  /** The kinds that write the same kind of output folder (a later one there replaced this run's output). */
  family: ReadonlySet<string>;
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
  /** What it becomes once a requested stop ends it: paused (resumable at its checkpoint) or cancelled. */
  stopAs?: 'paused' | 'cancelled';
}
/** States of a run that is neither waiting nor running (a paused or stopped one may be resumed). */
const STOPPED: ReadonlySet<JobRecord['state']> = new Set(['done', 'failed', 'cancelled', 'interrupted', 'paused']);

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
  /** When the part of each run now going started (ms), and the seconds it had run before it. */
  private readonly parts = new Map<string, { at: number; before: number }>();
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
      if (!record) continue;
      // Runs saved before these were counted: never resumed in place, and revision 0 is the oldest.
      const ran = record.startedAt && record.finishedAt ? (Date.parse(record.finishedAt) - Date.parse(record.startedAt)) / 1000 : 0;
      this.records.set(record.id, {
        ...record,
        resumes: record.resumes ?? 0,
        revision: record.revision ?? 0,
        runningSeconds: record.runningSeconds ?? ran,
        pausable: Boolean(this.options.kinds[record.kind]?.resume),
      });
    }
    await this.takeWorkspace();
  }

  /** Takes the workspace lock (once free); returns the live process that holds it otherwise. */
  private async takeWorkspace(): Promise<LockHolder | null> {
    const holder = this.lock.tryAcquire();
    if (holder || this.recovered) return holder;
    this.recovered = true;
    for (const record of this.records.values()) {
      if (record.state === 'done' || record.state === 'interrupted') continue;
      const wasRunning = !STOPPED.has(record.state);
      if (wasRunning) {
        record.state = 'interrupted';
        record.message = 'The app stopped while this job was running. Its last checkpoint, if any, is kept.';
        record.finishedAt ??= new Date().toISOString();
      }
      // A job killed mid-save leaves hidden temporaries (a half-written checkpoint) beside its output.
      const outDir = record.params?.outDir;
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

  /** The definition of a kind this manager runs. */
  kind(kind: string): JobKind {
    const definition = this.options.kinds[kind];
    if (!definition) throw new ApiError('bad_request', `Unknown job kind "${kind}".`);
    return definition;
  }

  async start(kind: string, rawParams: unknown): Promise<JobRecord> {
    await this.ownWorkspace();
    const definition = this.kind(kind);
    const params = parseParams(definition, rawParams);
    const id = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
    const runDir = join(this.runsDir, id);
    await mkdir(runDir, { recursive: true });
    // The one place a record is typed: its settings passed its kind's schema, which fits the contract.
    const record = {
      id,
      kind,
      title: definition.title(params),
      state: 'queued',
      params,
      createdAt: new Date().toISOString(),
      startedAt: null,
      finishedAt: null,
      fraction: null,
      message: WAITING,
      etaSeconds: null,
      resumes: 0,
      revision: 0,
      runningSeconds: 0,
      pausable: Boolean(definition.resume),
      result: null,
      error: null,
      runDir,
    } as JobRecord;
    this.records.set(id, record);
    await this.save(record);
    this.queue.push(id);
    this.publish(record);
    this.runNext();
    return record;
  }

  /**
   * Continues a stopped run in its own record and run folder, with `rawParams` (its settings with
   * resume switched on): its log and chart points go on from where they stopped, under the same id.
   */
  async requeue(id: string, rawParams: unknown): Promise<JobRecord> {
    await this.ownWorkspace();
    const record = this.get(id);
    if (!STOPPED.has(record.state) || record.state === 'done') throw new ApiError('bad_request', `"${record.title}" has not stopped, so it cannot continue.`);
    record.params = parseParams(this.kind(record.kind), rawParams) as JobRecord['params'];
    Object.assign(record, { state: 'queued', finishedAt: null, message: WAITING, etaSeconds: null, result: null, error: null });
    record.resumes += 1;
    await this.save(record);
    await this.append(record, 'log.txt', `Resumed (${new Date().toISOString()}).`);
    this.queue.push(id);
    this.publish(record);
    this.runNext();
    return record;
  }

  /**
   * Cancels a queued job at once; asks a running one to stop, and kills it after the grace period. A
   * paused or interrupted run, which nothing runs, is only marked cancelled: it leaves the unfinished
   * runs, and keeps its checkpoint, so it may still be resumed.
   */
  async cancel(id: string): Promise<JobRecord> {
    const record = this.get(id);
    if (record.state === 'queued') {
      this.queue.splice(this.queue.indexOf(id), 1);
      await this.finish(record, 'cancelled', 'Cancelled before it started');
    } else if (this.running?.id === id) {
      await this.requestStop(this.running, record, 'cancelled', 'Cancelling…');
    } else if (record.state === 'paused' || record.state === 'interrupted') {
      await this.settle(record, 'cancelled', `Cancelled while ${record.state}`);
    }
    return record;
  }

  /** Stops a run of a resumable kind at its next checkpoint: it becomes 'paused', to be continued by requeue. */
  async pause(id: string): Promise<JobRecord> {
    const record = this.get(id);
    if (!this.kind(record.kind).resume) throw new ApiError('bad_request', `"${record.title}" cannot be paused (it saves no checkpoint); cancel it instead.`);
    if (record.state === 'queued') {
      this.queue.splice(this.queue.indexOf(id), 1);
      await this.finish(record, 'paused', 'Paused before it started');
    } else if (this.running?.id === id) {
      await this.requestStop(this.running, record, 'paused', 'Pausing: saving a checkpoint…');
    }
    return record;
  }

  private async requestStop(running: RunningJob, record: JobRecord, as: 'paused' | 'cancelled', message: string): Promise<void> {
    running.stopAs = as;
    if (!running.killTimer) this.stop(running, this.options.cancelGraceMs ?? (await cancelGraceMs(record.params)));
    record.message = message;
    this.publish(record);
  }

  /** Throws when another live process runs this workspace's jobs. */
  private async ownWorkspace(): Promise<void> {
    const holder = await this.takeWorkspace();
    if (holder) {
      throw new ApiError(
        'bad_request',
        `Another program runs the jobs of this workspace (${this.options.workspaceDir}): ${describeHolder(holder)}. ` +
          'Start the job there, or close it and try again.',
      );
    }
  }

  /**
   * The chart series a job reported, in order (runs/<id>/metrics.jsonl); a torn line (a crash mid-write)
   * is skipped, and steps reported again after a resume from an earlier checkpoint replace the first report.
   */
  async metrics(id: string): Promise<MetricRow[]> {
    const record = this.get(id);
    await this.appends.get(id)?.catch(() => undefined);
    const text = await readFile(join(record.runDir, 'metrics.jsonl'), 'utf8').catch(() => '');
    const rows: MetricRow[] = [];
    for (const [i, line] of text.split('\n').entries()) {
      if (!line) continue;
      try {
        pushMetricRow(rows, JSON.parse(line) as MetricRow);
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
        if (STOPPED.has(record.state)) void (this.saves.get(id) ?? Promise.resolve()).catch(() => undefined).then(() => resolve(record));
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
    // A resumed run keeps the time it first started.
    record.startedAt ??= new Date().toISOString();
    this.parts.set(id, { at: Date.now(), before: record.runningSeconds });
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
        if (message.type === 'done') void guard(this.finish(record, 'done', 'Finished', message.result as JobRecord['result']));
        else if (message.type === 'cancelled')
          void guard(this.finish(record, running.stopAs ?? 'cancelled', running.stopAs === 'paused' ? 'Paused' : 'Cancelled'));
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
        else if (running.stopAs === 'paused') void guard(this.finish(record, 'paused', 'Paused (the job was stopped: it continues from its last checkpoint)'));
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
    if (this.running === running && !STOPPED.has(record.state)) {
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
    if (STOPPED.has(record.state)) return;
    record.fraction = update.fraction;
    record.message = update.message;
    // An update that does not say (a checkpoint being saved) keeps the last estimate.
    if (update.etaSeconds !== undefined) record.etaSeconds = update.etaSeconds;
    // Publish before any await: the next update may arrive while this one is being written.
    this.publish(record, update.metrics);
    if (update.metrics) await this.append(record, 'metrics.jsonl', JSON.stringify(update.metrics));
    const now = Date.now();
    if (this.running && now - this.running.lastSave > SAVE_INTERVAL_MS) {
      this.running.lastSave = now;
      // Saved as it goes: a run the app never saw stop (a crash) keeps most of its running time.
      this.tally(record);
      await this.save(record);
    }
  }

  /** `result`: what the kind's module returned, its contract type (the job process passes it through). */
  private async finish(record: JobRecord, state: JobRecord['state'], message: string, result: JobRecord['result'] = null): Promise<void> {
    if (STOPPED.has(record.state)) return;
    if (state === 'done' && this.options.afterDone) {
      try {
        await this.options.afterDone({ ...record, result } as JobRecord);
      } catch (err) {
        message = `Finished, but ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    this.tally(record);
    this.parts.delete(record.id);
    if (state === 'done') {
      record.fraction = 1;
      record.result = result;
    }
    if (state === 'failed') record.error = message;
    await this.settle(record, state, message);
  }

  /** Puts a run in a stopped state, tells the pages and saves it. */
  private async settle(record: JobRecord, state: JobRecord['state'], message: string): Promise<void> {
    record.state = state;
    record.message = message;
    record.finishedAt = new Date().toISOString();
    record.etaSeconds = null;
    this.publish(record);
    // The state is final in memory already; a record that cannot be saved is told, not thrown.
    await this.save(record).catch((err: unknown) => this.report(err));
  }

  /** Brings a running record's runningSeconds up to now. */
  private tally(record: JobRecord): void {
    const part = this.parts.get(record.id);
    if (part) record.runningSeconds = part.before + (Date.now() - part.at) / 1000;
  }

  /** Tells the pages of a change to the record, which it counts (`revision`). */
  private publish(record: JobRecord, metrics?: Record<string, number>): void {
    record.revision += 1;
    const { id: jobId, kind, state, fraction, message, etaSeconds, resumes, revision } = record;
    this.options.emit({
      name: 'job.progress',
      data: { jobId, kind, state, fraction, message, etaSeconds, resumes, revision, ...(metrics ? { metrics } : {}) },
    });
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

const WAITING = 'Waiting for the previous job to finish';

/** A kind's settings checked against its schema (defaults filled in), or a refusal that says which are wrong. */
function parseParams(definition: JobKind, rawParams: unknown): unknown {
  const parsed = definition.params.safeParse(rawParams ?? {});
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ');
    throw new ApiError('bad_request', `Invalid settings for this job: ${detail}`);
  }
  return parsed.data;
}
