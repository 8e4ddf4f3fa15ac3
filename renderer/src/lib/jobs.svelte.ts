// The live list of runs, shared by every page: loaded once from 'jobs.list', then kept up to date
// by 'job.progress' events. When a job's state changes, its full record (times, error, result) is
// fetched again, so the list always ends up exactly as the core saved it. A run moves forward only
// (waiting, running, stopped), except when it is resumed: each resume starts it over from waiting.
import type { FasApi, JobProgress, JobRecord, JobState } from '../../../electron/api/contract.js';
import { isActive } from './words.js';

const STATE_ORDER: Record<JobState, number> = { queued: 0, running: 1, paused: 2, done: 2, failed: 2, cancelled: 2, interrupted: 2 };

type Phase = Pick<JobRecord, 'state' | 'resumes'>;

/** Whether `incoming` is older than what `shown` holds: from an earlier resume, or an earlier state of the same one. */
function isStale(shown: Phase, incoming: Phase): boolean {
  if (incoming.resumes !== shown.resumes) return incoming.resumes < shown.resumes;
  return STATE_ORDER[incoming.state] < STATE_ORDER[shown.state];
}

export class JobsStore {
  /** Newest first, as the core lists them. */
  jobs: JobRecord[] = $state([]);
  loaded = $state(false);
  error: string | null = $state(null);
  readonly active = $derived(this.jobs.filter((job) => isActive(job.state)).length);
  /**
   * How many times the event stream has (re)connected, 0 before the first: a view that pairs saved
   * data with live events (a run's charts) reads its data after each, so no event falls between.
   */
  connection = $state(0);

  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- callbacks, never rendered
  private readonly listeners = new Set<(progress: JobProgress) => void>();
  /** Events that arrive while the list is loading, applied once it is there. */
  private early: JobProgress[] | null = [];

  constructor(private readonly api: FasApi) {}

  /** Starts listening and loads the list once listening (again after a reconnect); returns the function that stops listening. */
  connect(): () => void {
    return this.api.onEvent(
      (event) => {
        if (event.name !== 'job.progress') return;
        if (this.early) this.early.push(event.data);
        else this.apply(event.data);
        for (const listener of this.listeners) listener(event.data);
      },
      () => {
        this.connection++;
        void this.load();
      },
    );
  }

  async load(): Promise<void> {
    this.early ??= [];
    this.error = null;
    try {
      this.jobs = await this.api.call('jobs.list', {});
      this.loaded = true;
      const early = this.early ?? [];
      this.early = null;
      early.forEach((progress) => this.apply(progress));
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
      this.early = null;
    }
  }

  find(id: string): JobRecord | undefined {
    return this.jobs.find((job) => job.id === id);
  }

  /** Calls `listener` with every progress event (e.g. to append chart points); returns its remover. */
  onProgress(listener: (progress: JobProgress) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async cancel(id: string): Promise<void> {
    this.upsert(await this.api.call('jobs.cancel', { id }));
  }

  async pause(id: string): Promise<void> {
    this.upsert(await this.api.call('jobs.pause', { id }));
  }

  /** Continues a stopped run in place (same id): it shows as waiting again at once. */
  async resume(id: string): Promise<void> {
    this.upsert(await this.api.call('jobs.resume', { id }));
  }

  private apply(progress: JobProgress): void {
    const job = this.find(progress.jobId);
    // An event older than the record (one held while the list loaded) would take it back a state and
    // re-create the page parts of that state.
    if (job && isStale(job, progress)) return;
    if (job && job.state === progress.state && job.resumes === progress.resumes) {
      job.fraction = progress.fraction;
      job.message = progress.message;
      job.etaSeconds = progress.etaSeconds;
      return;
    }
    if (job) {
      const { state, fraction, message, etaSeconds, resumes } = progress;
      Object.assign(job, { state, fraction, message, etaSeconds, resumes });
    }
    void this.refresh(progress.jobId);
  }

  private async refresh(id: string): Promise<void> {
    try {
      this.upsert(await this.api.call('jobs.get', { id }));
    } catch {
      // The next event or a reload brings it; the list already shows the event's state.
    }
  }

  /** Saves a record the core returned, unless events applied meanwhile moved the run on. */
  private upsert(record: JobRecord): void {
    const index = this.jobs.findIndex((job) => job.id === record.id);
    if (index >= 0 && isStale(this.jobs[index]!, record)) return;
    if (index >= 0) this.jobs[index] = record;
    else this.jobs = [...this.jobs, record].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }
}
