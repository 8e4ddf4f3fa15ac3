// The UI's live list of runs against a fake API: it reads the list only once the event stream is
// open, and again after a reconnect, so no event can fall between the list and the stream; of two
// copies of a record it keeps the newer, whatever order they arrive in.
import { describe, expect, it } from 'vitest';
import type { ApiEvent, FasApi, JobProgress, JobRecord } from '../../../electron/api/contract.js';
import { JobsStore } from '../../../renderer/src/lib/jobs.svelte.js';

const record = (state: JobRecord['state'], fraction: number | null, revision: number) =>
  ({ id: 'j1', kind: 'count', state, fraction, message: '', resumes: 0, revision, createdAt: '2026-12-06T10:00:00.000Z' }) as unknown as JobRecord;
const progress = (fraction: number | null, revision: number, state: JobRecord['state'] = 'running'): JobProgress => ({
  jobId: 'j1',
  kind: 'count',
  state,
  fraction,
  message: `at ${fraction}`,
  etaSeconds: 1,
  resumes: 0,
  revision,
});

/** An API whose event stream opens, and whose jobs.list and jobs.get answer, when the test says so. */
function fakeApi() {
  let emit = (_: ApiEvent) => {};
  let open = () => {};
  const lists: Array<(jobs: JobRecord[]) => void> = [];
  const gets: Array<(job: JobRecord) => void> = [];
  const api: FasApi = {
    call: ((method: string) => {
      if (method === 'jobs.list') return new Promise<JobRecord[]>((resolve) => lists.push(resolve));
      if (method === 'jobs.get') return new Promise<JobRecord>((resolve) => gets.push(resolve));
      throw new Error(`unexpected ${method}`);
    }) as FasApi['call'],
    onEvent: (listener, onConnected) => {
      emit = listener;
      open = () => onConnected?.();
      return () => {};
    },
    openReport: async () => {},
  };
  return { api, lists, gets, emit: (e: ApiEvent) => emit(e), open: () => open() };
}

describe('JobsStore', () => {
  it('reads the list once the stream is open, applies what arrives while it loads, and reads it again after a reconnect', async () => {
    const fake = fakeApi();
    const store = new JobsStore(fake.api);
    store.connect();
    expect(fake.lists).toHaveLength(0);
    expect(store.connection).toBe(0);

    fake.open();
    expect(store.connection).toBe(1);
    expect(fake.lists).toHaveLength(1);
    fake.emit({ name: 'job.progress', data: progress(0.5, 4) });
    fake.lists[0]!([record('running', 0.2, 3)]);
    await Promise.resolve();
    expect(store.loaded).toBe(true);
    expect(store.find('j1')?.fraction).toBe(0.5);

    // Events missed while the stream was down are in the list read after it reopens.
    fake.open();
    expect(store.connection).toBe(2);
    expect(fake.lists).toHaveLength(2);
    fake.lists[1]!([record('running', 0.9, 9)]);
    await Promise.resolve();
    expect(store.find('j1')?.fraction).toBe(0.9);
  });

  it('keeps the newest copy of a run when the answers about it come back out of order', async () => {
    const fake = fakeApi();
    const store = new JobsStore(fake.api);
    store.connect();
    fake.open();
    fake.lists[0]!([]);
    await Promise.resolve();

    // A new run's events arrive before the list knows it: each asks for the record.
    fake.emit({ name: 'job.progress', data: progress(null, 1, 'queued') });
    fake.emit({ name: 'job.progress', data: progress(null, 2) });
    fake.emit({ name: 'job.progress', data: progress(0.5, 3) });
    expect(fake.gets).toHaveLength(3);
    // The last answer comes back first, then an older one: the run stays at 0.5.
    fake.gets[2]!(record('running', 0.5, 3));
    await Promise.resolve();
    fake.gets[0]!(record('queued', null, 1));
    fake.gets[1]!(record('running', null, 2));
    await Promise.resolve();
    expect(store.find('j1')).toMatchObject({ state: 'running', fraction: 0.5, revision: 3 });

    // An event older than the record is dropped; a newer one of the same state moves it on without asking again.
    fake.emit({ name: 'job.progress', data: progress(0.25, 2) });
    fake.emit({ name: 'job.progress', data: progress(0.75, 4) });
    expect(store.find('j1')).toMatchObject({ fraction: 0.75, revision: 4 });
    expect(fake.gets).toHaveLength(3);
  });
});
