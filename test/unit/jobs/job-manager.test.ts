import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ApiEvent } from '../../../electron/api/contract.js';
import { JobManager } from '../../../electron/core/jobs/job-manager.js';

const countJob = fileURLToPath(new URL('../../fixtures/jobs/count.mjs', import.meta.url));

const countParams = z.object({
  steps: z.number().int().min(1),
  delayMs: z.number().optional(),
  crash: z.boolean().optional(),
  fail: z.boolean().optional(),
  ignoreCancel: z.boolean().optional(),
});

async function manager(events: ApiEvent[] = [], workspaceDir = mkdtempSync(join(tmpdir(), 'fas-jobs-'))) {
  const m = new JobManager({
    workspaceDir,
    kinds: { count: { module: countJob, params: countParams, title: (p) => `Count to ${(p as { steps: number }).steps}` } },
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
    expect(done.result).toEqual({ counted: 4 });
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
