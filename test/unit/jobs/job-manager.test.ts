import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ApiEvent, JobProgress } from '../../../electron/api/contract.js';
import { JobManager } from '../../../electron/core/jobs/job-manager.js';
import { resumeInfo, resumeJob } from '../../../electron/core/jobs/resume.js';
import { countKind, countResume } from '../../helpers/count-job.js';

const count = countKind();
/** The count job with a checkpoint (params.outDir/checkpoint.json), so it can pause and resume. */
const resumableCount = countKind(undefined, countResume);

async function manager(events: ApiEvent[] = [], workspaceDir = mkdtempSync(join(tmpdir(), 'fas-jobs-'))) {
  const m = new JobManager({
    workspaceDir,
    kinds: { count, resumableCount },
    emit: (e) => events.push(e),
    cancelGraceMs: 500,
  });
  await m.init();
  return m;
}

describe('JobManager', () => {
  it('runs a job in a child process, streams progress and saves the record and metrics', async () => {
    const events: ApiEvent[] = [];
    const m = await manager(events);
    const job = await m.start('count', { steps: 4 });
    const done = await m.waitFor(job.id);
    expect(done.state).toBe('done');
    expect(done.result).toEqual({ counted: 4, from: 1 });
    const progress = events.flatMap((e) => (e.name === 'job.progress' ? [e.data] : []));
    expect(progress.filter((p) => p.state === 'running').map((p) => p.fraction)).toContain(0.5);
    expect(events.at(-1)!.data).toMatchObject({ jobId: job.id, state: 'done', fraction: 1 });
    const saved = JSON.parse(readFileSync(join(done.runDir, 'run.json'), 'utf8'));
    expect(saved.state).toBe('done');
    expect((await m.metrics(job.id)).map((r) => r.step)).toEqual([1, 2, 3, 4]);
    expect(readFileSync(join(done.runDir, 'log.txt'), 'utf8')).toBe('counted\n');
  });

  it('runs one job at a time and queues the rest', async () => {
    const m = await manager();
    const a = await m.start('count', { steps: 3 });
    const b = await m.start('count', { steps: 2 });
    expect(m.get(b.id).state).toBe('queued');
    await m.waitFor(b.id);
    expect(m.get(a.id).state).toBe('done');
    expect(Date.parse(m.get(b.id).startedAt!)).toBeGreaterThanOrEqual(Date.parse(m.get(a.id).finishedAt!) - 50);
  });

  it('cancels a running job cooperatively', async () => {
    const m = await manager();
    const job = await m.start('count', { steps: 1000, delayMs: 10 });
    while (m.get(job.id).fraction === null) await new Promise((r) => setTimeout(r, 10));
    await m.cancel(job.id);
    expect((await m.waitFor(job.id)).state).toBe('cancelled');
  });

  it('kills a job that ignores cancellation after the grace period', async () => {
    const m = await manager();
    const job = await m.start('count', { steps: 100000, delayMs: 10, ignoreCancel: true });
    while (m.get(job.id).fraction === null) await new Promise((r) => setTimeout(r, 10));
    await m.cancel(job.id);
    const done = await m.waitFor(job.id);
    expect(done.state).toBe('cancelled');
  });

  it('reports a crashed job as failed, in words', async () => {
    const m = await manager();
    const done = await m.waitFor((await m.start('count', { steps: 5, crash: true })).id);
    expect(done.state).toBe('failed');
    expect(done.error).toContain('stopped unexpectedly (exit code 3)');
  });

  it('passes a job error message through', async () => {
    const m = await manager();
    const done = await m.waitFor((await m.start('count', { steps: 5, fail: true })).id);
    expect(done).toMatchObject({ state: 'failed', error: 'The data ran out at step 2.' });
  });

  it('refuses unknown kinds and ids', async () => {
    const m = await manager();
    await expect(m.start('format-disk', {})).rejects.toThrow('Unknown job kind');
    await expect(m.start('count', { steps: -1 })).rejects.toThrow(/Invalid settings for this job: steps/);
    expect(() => m.get('nope')).toThrow('No job with id');
  });

  it('marks jobs that were running when the app stopped as interrupted after a restart', async () => {
    const workspaceDir = mkdtempSync(join(tmpdir(), 'fas-jobs-'));
    const runDir = join(workspaceDir, 'runs', 'old-run');
    mkdirSync(runDir, { recursive: true });
    writeFileSync(
      join(runDir, 'run.json'),
      JSON.stringify({ id: 'old-run', kind: 'count', state: 'running', createdAt: '2026-01-01', finishedAt: null, runDir }),
    );
    const m = await manager([], workspaceDir);
    expect(m.get('old-run').state).toBe('interrupted');
    expect(existsSync(join(runDir, 'run.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')).state).toBe('interrupted');
  });
});

describe('JobManager: pause and resume as one run', () => {
  const progressOf = (events: ApiEvent[], id: string): JobProgress[] =>
    events.flatMap((e) => (e.name === 'job.progress' && e.data.jobId === id ? [e.data] : []));

  /** Starts a resumable count held after its first step, pauses it there, and waits until it has stopped. */
  async function pausedCount(m: JobManager, temp: string, steps = 5) {
    const holdFile = join(temp, 'hold');
    writeFileSync(holdFile, '');
    const job = await m.start('resumableCount', { steps, outDir: join(temp, 'out'), holdFile });
    while (m.get(job.id).fraction === null) await new Promise((r) => setTimeout(r, 10));
    expect((await m.pause(job.id)).message).toBe('Pausing: saving a checkpoint…');
    rmSync(holdFile);
    return m.waitFor(job.id);
  }

  it('shows a paused run as paused, and resumes it in the same record with its chart points kept', async () => {
    const events: ApiEvent[] = [];
    const temp = mkdtempSync(join(tmpdir(), 'fas-jobs-'));
    const m = await manager(events, join(temp, 'workspace'));
    const paused = await pausedCount(m, temp);
    expect(paused).toMatchObject({ state: 'paused', message: 'Paused', resumes: 0, pausable: true });
    expect(progressOf(events, paused.id).map((p) => p.state)).not.toContain('cancelled');
    const info = await resumeInfo(m, paused.id);
    expect(info).toMatchObject({ canResume: true, checkpoint: { kind: 'training', steps: 5 } });
    // Held after step 1: it stops there, or after step 2 when the pause reaches it once the hold is gone.
    const savedStep = info.checkpoint?.kind === 'training' ? info.checkpoint.step : NaN;
    expect([1, 2]).toContain(savedStep);

    // Half a second paused, which its running time leaves out.
    await new Promise((r) => setTimeout(r, 500));
    const resumed = await resumeJob(m, paused.id);
    expect(resumed).toMatchObject({ id: paused.id, resumes: 1, params: { resume: true } });
    const done = await m.waitFor(paused.id);
    expect(done).toMatchObject({ state: 'done', result: { counted: 5, from: savedStep + 1 }, resumes: 1 });
    expect(m.list()).toHaveLength(1);
    expect(done.runningSeconds).toBeGreaterThan(0);
    expect(done.runningSeconds).toBeLessThan((Date.parse(done.finishedAt!) - Date.parse(done.startedAt!)) / 1000 - 0.45);
    // One continuous series: the steps before the pause, then the rest.
    expect((await m.metrics(paused.id)).map((r) => r.step)).toEqual([1, 2, 3, 4, 5]);
    // The resume's events say so, and every event counts one more revision, the record's last.
    const progress = progressOf(events, paused.id);
    const states = progress.map((p) => `${p.state}/${p.resumes}`);
    expect(states.slice(states.indexOf('paused/0'))).toEqual(expect.arrayContaining(['paused/0', 'queued/1', 'running/1', 'done/1']));
    expect(progress.map((p) => p.revision)).toEqual(progress.map((_, i) => i + 1));
    expect(done.revision).toBe(progress.length);
    expect(readFileSync(join(done.runDir, 'log.txt'), 'utf8')).toMatch(/^Resumed \(.*\)\.\ncounted\n$/);
    await expect(resumeJob(m, paused.id)).rejects.toThrow('This run cannot be resumed: This run has finished.');
    m.close();
  });

  it('keeps a paused run paused across a restart, and resumes it there', async () => {
    const temp = mkdtempSync(join(tmpdir(), 'fas-jobs-'));
    const workspaceDir = join(temp, 'workspace');
    const first = await manager([], workspaceDir);
    const paused = await pausedCount(first, temp, 3);
    first.close();

    const m = await manager([], workspaceDir);
    expect(m.get(paused.id)).toMatchObject({ state: 'paused', pausable: true });
    await resumeJob(m, paused.id);
    expect(await m.waitFor(paused.id)).toMatchObject({ state: 'done', result: { counted: 3 } });
    expect((await m.metrics(paused.id)).map((r) => r.step)).toEqual([1, 2, 3]);
    m.close();
  });

  it('cancels a paused run in place: it leaves the unfinished runs and keeps its checkpoint', async () => {
    const temp = mkdtempSync(join(tmpdir(), 'fas-jobs-'));
    const m = await manager([], join(temp, 'workspace'));
    const paused = await pausedCount(m, temp);
    expect(await m.cancel(paused.id)).toMatchObject({ state: 'cancelled', message: 'Cancelled while paused' });
    expect(JSON.parse(readFileSync(join(paused.runDir, 'run.json'), 'utf8')).state).toBe('cancelled');
    expect(await resumeInfo(m, paused.id)).toMatchObject({ canResume: true, checkpoint: { kind: 'training' } });
    await resumeJob(m, paused.id);
    expect(await m.waitFor(paused.id)).toMatchObject({ state: 'done', result: { counted: 5 } });
    m.close();
  });

  it('cancels a run asked to stop while it pauses, and pauses only kinds that save checkpoints', async () => {
    const temp = mkdtempSync(join(tmpdir(), 'fas-jobs-'));
    const m = await manager([], join(temp, 'workspace'));
    const holdFile = join(temp, 'hold');
    writeFileSync(holdFile, '');
    const job = await m.start('resumableCount', { steps: 5, outDir: join(temp, 'out'), holdFile });
    while (m.get(job.id).fraction === null) await new Promise((r) => setTimeout(r, 10));
    await m.pause(job.id);
    await m.cancel(job.id);
    rmSync(holdFile);
    expect((await m.waitFor(job.id)).state).toBe('cancelled');
    // A cancelled run with a checkpoint can still continue, as the same run.
    expect((await resumeJob(m, job.id)).id).toBe(job.id);
    expect((await m.waitFor(job.id)).state).toBe('done');

    const plain = await m.start('count', { steps: 1000, delayMs: 10 });
    expect(plain.pausable).toBe(false);
    await expect(m.pause(plain.id)).rejects.toThrow(/cannot be paused \(it saves no checkpoint\); cancel it instead/);
    await m.cancel(plain.id);
    await m.waitFor(plain.id);
    m.close();
  });
});
