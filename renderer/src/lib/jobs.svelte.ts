// The live list of runs, shared by every page: loaded once from 'jobs.list', then kept up to date
// by 'job.progress' events. When a job's state changes, its full record (times, error, result) is
// fetched again, so the list always ends up exactly as the core saved it. Records and events carry
// the record's revision, so a copy older than the one shown (an answer overtaken by events on the
// way, or an event held while the list loaded) is dropped, whatever order they arrive in.
import type { FasApi, JobProgress, JobRecord } from '../../../electron/api/contract.js';
import { isActive } from './words.js';

/** Whether `incoming` is older than what `shown` holds. */
function isStale(shown: Pick<JobRecord, 'revision'>, incoming: Pick<JobRecord, 'revision'>): boolean {
  return incoming.revision < shown.revision;
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
    // An event older than the record would take it back a state and re-create the page parts of that state.
    if (job && isStale(job, progress)) return;
    const { state, fraction, message, etaSeconds, resumes, revision } = progress;
    const sameState = job?.state === state && job.resumes === resumes;
    if (job) Object.assign(job, { state, fraction, message, etaSeconds, resumes, revision });
    if (!sameState) void this.refresh(progress.jobId);
  }

  private async refresh(id: string): Promise<void> {
    try {
      this.upsert(await this.api.call('jobs.get', { id }));
    } catch {
      // The next event or a reload brings it; the list already shows the event's state.
    }
  }

  /** Saves a record the core returned, unless a newer copy is shown (events applied meanwhile, a later answer). */
  private upsert(record: JobRecord): void {
    const index = this.jobs.findIndex((job) => job.id === record.id);
    if (index >= 0 && isStale(this.jobs[index]!, record)) return;
    if (index >= 0) this.jobs[index] = record;
    else this.jobs = [...this.jobs, record].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }
}
