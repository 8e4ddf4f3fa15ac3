// The UI's live list of runs against a fake API: it reads the list only once the event stream is
// open, and again after a reconnect, so no event can fall between the list and the stream.
import { describe, expect, it } from 'vitest';
import type { ApiEvent, FasApi, JobProgress, JobRecord } from '../../../electron/api/contract.js';
import { JobsStore } from '../../../renderer/src/lib/jobs.svelte.js';

const record = (state: JobRecord['state'], fraction: number) =>
  ({ id: 'j1', kind: 'count', state, fraction, message: '', resumes: 0, createdAt: '2026-12-06T10:00:00.000Z' }) as unknown as JobRecord;
const progress = (fraction: number): JobProgress => ({
  jobId: 'j1',
  kind: 'count',
  state: 'running',
  fraction,
  message: `at ${fraction}`,
  etaSeconds: 1,
  resumes: 0,
});

/** An API whose event stream opens, and whose jobs.list answers, when the test says so. */
function fakeApi() {
  let emit = (_: ApiEvent) => {};
  let open = () => {};
  const lists: Array<(jobs: JobRecord[]) => void> = [];
  const api: FasApi = {
    call: ((method: string) => {
      if (method === 'jobs.list') return new Promise<JobRecord[]>((resolve) => lists.push(resolve));
      throw new Error(`unexpected ${method}`);
    }) as FasApi['call'],
    onEvent: (listener, onConnected) => {
      emit = listener;
      open = () => onConnected?.();
      return () => {};
    },
    openReport: async () => {},
  };
  return { api, lists, emit: (e: ApiEvent) => emit(e), open: () => open() };
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
    fake.emit({ name: 'job.progress', data: progress(0.5) });
    fake.lists[0]!([record('running', 0.2)]);
    await Promise.resolve();
    expect(store.loaded).toBe(true);
    expect(store.find('j1')?.fraction).toBe(0.5);

    // Events missed while the stream was down are in the list read after it reopens.
    fake.open();
    expect(store.connection).toBe(2);
    expect(fake.lists).toHaveLength(2);
    fake.lists[1]!([record('running', 0.9)]);
    await Promise.resolve();
    expect(store.find('j1')?.fraction).toBe(0.9);
  });
});
