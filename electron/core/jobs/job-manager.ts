// Runs jobs one at a time, each in its own child process, keeps their records in the workspace
// (runs/<id>/run.json) and streams their progress as 'job.progress' events.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import type { ApiEvent, JobRecord } from '../../api/contract.js';
import { ApiError } from '../api/errors.js';
import { compiledPath } from '../compiled-path.js';
import { readJsonIfExists, writeJsonAtomic } from '../storage/json-file.js';
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
  /** How long a cancelled job may take to stop before it is killed. */
  cancelGraceMs?: number;
  /**
   * Runs when a job has succeeded, before it is marked done (e.g. to add the model it made to the
   * library), so whoever sees "done" also sees what it did. A failure is told in the job's message.
   */
  afterDone?(job: JobRecord): Promise<unknown>;
}

const SAVE_INTERVAL_MS = 2000;
const TERMINAL = new Set(['done', 'failed', 'cancelled', 'interrupted']);

export class JobManager {
  private readonly runsDir: string;
  private readonly records = new Map<string, JobRecord>();
  private readonly queue: string[] = [];
  private running: { id: string; child: ChildProcess; lastSave: number; killTimer?: NodeJS.Timeout } | null = null;
  /** Per job, the last pending write of run.json: writes are chained so an older state never lands last. */
  private readonly saves = new Map<string, Promise<void>>();
  /** Per job, the last pending line appended to its log or metrics: chained so lines keep their order. */
  private readonly appends = new Map<string, Promise<void>>();

  constructor(private readonly options: JobManagerOptions) {
    this.runsDir = join(options.workspaceDir, 'runs');
  }

  /** Loads saved runs; a job that was running when the app stopped is marked interrupted. */
  async init(): Promise<void> {
    await mkdir(this.runsDir, { recursive: true });
    for (const entry of await readdir(this.runsDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const record = await readJsonIfExists<JobRecord>(join(this.runsDir, entry.name, 'run.json')).catch(() => null);
      if (!record) continue;
      if (!TERMINAL.has(record.state)) {
        record.state = 'interrupted';
        record.message = 'The app stopped while this job was running. Its last checkpoint, if any, is kept.';
        record.finishedAt ??= new Date().toISOString();
        await this.save(record);
      }
      this.records.set(record.id, record);
    }
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
      const running = this.running;
      running.child.send({ type: 'cancel' } satisfies ToJobProcess);
      running.killTimer = setTimeout(() => running.child.kill('SIGKILL'), this.options.cancelGraceMs ?? 10_000);
      record.message = 'Cancelling…';
      this.publish(record);
    }
    return record;
  }

  /** The chart series a job reported, in order (runs/<id>/metrics.jsonl). */
  async metrics(id: string): Promise<Array<Record<string, number>>> {
    const record = this.get(id);
    await this.appends.get(id)?.catch(() => undefined);
    const text = await readFile(join(record.runDir, 'metrics.jsonl'), 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, number>);
  }

  /** Waits until a job reaches a final state (for the CLI and tests). */
  waitFor(id: string): Promise<JobRecord> {
    return new Promise((resolve) => {
      const check = () => {
        const record = this.get(id);
        if (TERMINAL.has(record.state)) void this.saves.get(id)?.then(() => resolve(record));
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
    this.running = { id, child, lastSave: 0 };
    record.state = 'running';
    record.startedAt = new Date().toISOString();
    record.message = 'Starting';
    this.publish(record);
    let finished = false;
    child.on('message', (message: FromJobProcess) => {
      if (message.type === 'progress') void this.onProgress(record, message.update);
      else if (message.type === 'log') void this.append(record, 'log.txt', message.message);
      else {
        finished = true;
        if (message.type === 'done') void this.finish(record, 'done', 'Finished', message.result);
        else if (message.type === 'cancelled') void this.finish(record, 'cancelled', 'Cancelled');
        else void this.finish(record, 'failed', message.message);
      }
    });
    child.on('exit', (code, signal) => {
      if (this.running?.killTimer) clearTimeout(this.running.killTimer);
      const wasCancelling = this.running?.killTimer !== undefined;
      this.running = null;
      if (!finished) {
        if (wasCancelling) void this.finish(record, 'cancelled', 'Cancelled (the job was stopped)');
        else void this.finish(record, 'failed', `The job's process stopped unexpectedly (${signal ?? `exit code ${code}`}). Its last checkpoint, if any, is kept.`);
      }
      this.runNext();
    });
    const modulePath = compiledPath(this.options.kinds[record.kind]!.module, import.meta.url);
    child.send({ type: 'start', modulePath, params: record.params, runDir: record.runDir } satisfies ToJobProcess);
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
    await this.save(record);
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
