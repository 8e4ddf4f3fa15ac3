// The JobManager under faults: a second process on the workspace (the lock), a run folder deleted
// while its job runs, a metrics line torn by a crash. Needs `npm run build:core` (the lock holder
// below and the job processes run the compiled files).
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ASSUMED_WRITE_BYTES_PER_SECOND, cancelGraceMs } from '../../../electron/core/jobs/cancel-grace.js';
import { JobManager } from '../../../electron/core/jobs/job-manager.js';
import { claimOutputFolder } from '../../../electron/core/storage/owned-folder.js';
import { LOCK_FILE, OUTPUT_LOCK_FILE } from '../../../electron/core/storage/process-lock.js';

const countJob = fileURLToPath(new URL('../../fixtures/jobs/count.mjs', import.meta.url));
const lockModule = fileURLToPath(new URL('../../../dist/electron/core/storage/process-lock.js', import.meta.url));
const countParams = z.object({ steps: z.number().int().min(1), delayMs: z.number().optional() });

function manager(workspaceDir = mkdtempSync(join(tmpdir(), 'fas-faults-'))) {
  return new JobManager({
    workspaceDir,
    kinds: { count: { module: countJob, params: countParams, title: () => 'Count' } },
    emit: () => {},
    cancelGraceMs: 500,
  });
}

/** Another process that holds a lock file, as `fas serve` holds its workspace. */
async function otherProcess(lockFile: string, description = 'fas serve --port 5199') {
  const script = `import(${JSON.stringify(lockModule)}).then((m) => { new m.ProcessLock(${JSON.stringify(lockFile)}, ${JSON.stringify(description)}).tryAcquire(); console.log('held'); setInterval(() => {}, 1000); });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  return child;
}

describe('JobManager under faults', () => {
  it('leaves the jobs of another live process alone, says who holds the workspace, and takes over once it is gone', async () => {
    const workspaceDir = mkdtempSync(join(tmpdir(), 'fas-faults-'));
    const runDir = join(workspaceDir, 'runs', 'theirs');
    mkdirSync(runDir, { recursive: true });
    writeFileSync(
      join(runDir, 'run.json'),
      JSON.stringify({ id: 'theirs', kind: 'count', state: 'running', createdAt: '2026-01-01', finishedAt: null, runDir, params: {} }),
    );
    const other = await otherProcess(join(workspaceDir, LOCK_FILE));
    try {
      const m = manager(workspaceDir);
      await m.init();
      expect(m.get('theirs').state).toBe('running');
      expect(JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')).state).toBe('running');
      await expect(m.start('count', { steps: 1 })).rejects.toThrow(new RegExp(`process ${other.pid} \\("fas serve --port 5199"`));
    } finally {
      other.kill('SIGKILL');
      await new Promise((resolve) => other.once('exit', resolve));
    }
    // Its lock file stays behind (killed), but its process is gone: the lock is stale and taken over.
    const m = manager(workspaceDir);
    await m.init();
    expect(m.get('theirs').state).toBe('interrupted');
    expect(JSON.parse(readFileSync(join(workspaceDir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    expect((await m.waitFor((await m.start('count', { steps: 1 })).id)).state).toBe('done');
    m.close();
  });

  it('fails a job whose run folder is deleted while it runs, and keeps running jobs', async () => {
    const m = manager();
    await m.init();
    const job = await m.start('count', { steps: 400, delayMs: 5 });
    while (m.get(job.id).fraction === null) await new Promise((r) => setTimeout(r, 10));
    renameSync(job.runDir, `${job.runDir}-deleted`);
    // And a file where it was, so the folder cannot come back by itself (writes of run.json recreate folders).
    writeFileSync(job.runDir, '');
    const done = await m.waitFor(job.id);
    expect(done.state).toBe('failed');
    expect(done.error).toMatch(/its run folder .* could not be written/);
    expect((await m.waitFor((await m.start('count', { steps: 2 })).id)).state).toBe('done');
    m.close();
  });

  it('skips a torn last line of metrics.jsonl instead of losing the run’s metrics', async () => {
    const m = manager();
    await m.init();
    const job = await m.waitFor((await m.start('count', { steps: 3 })).id);
    appendFileSync(join(job.runDir, 'metrics.jsonl'), '{"step": 4, "lo');
    expect((await m.metrics(job.id)).map((row) => row.step)).toEqual([1, 2, 3]);
    m.close();
  });

  it('never lets two jobs write one output folder', async () => {
    const out = mkdtempSync(join(tmpdir(), 'fas-out-'));
    await (
      await claimOutputFolder(out, { inputs: [], overwrite: false, resume: false })
    )();
    const other = await otherProcess(join(out, OUTPUT_LOCK_FILE), 'fas train ./model --out ./out');
    try {
      await expect(claimOutputFolder(out, { inputs: [], overwrite: true, resume: false })).rejects.toThrow(
        new RegExp(`Another job is writing to .*: process ${other.pid} \\("fas train ./model --out ./out"`),
      );
    } finally {
      other.kill('SIGKILL');
      await new Promise((resolve) => other.once('exit', resolve));
    }
    await (
      await claimOutputFolder(out, { inputs: [], overwrite: true, resume: false })
    )();
  });

  it('waits long enough for a checkpoint of the model at hand before killing a cancelled job', async () => {
    const small = mkdtempSync(join(tmpdir(), 'fas-grace-'));
    const large = mkdtempSync(join(tmpdir(), 'fas-grace-'));
    writeFileSync(join(large, 'model.safetensors'), '');
    truncateSync(join(large, 'model.safetensors'), 2 ** 30); // sparse: 1 GiB of weights, nothing written
    const base = await cancelGraceMs({ modelDir: small });
    // Weights, and Adam's two moments, in F32 from weights that may be 16-bit: 6 GiB at the assumed speed.
    expect((await cancelGraceMs({ modelDir: large })) - base).toBeCloseTo(((6 * 2 ** 30) / ASSUMED_WRITE_BYTES_PER_SECOND) * 1000, -1);
    expect(base).toBeGreaterThanOrEqual(10_000);
    for (const dir of [small, large]) rmSync(dir, { recursive: true });
  });
});
