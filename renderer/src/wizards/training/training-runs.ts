// Training runs as the UI sees them: which jobs can be paused, and which are still unfinished.
import type { JobRecord } from '../../../../electron/api/contract';

/** Job kinds that run the training loop: they save checkpoints, so they can pause and resume. */
export function isTraining(job: JobRecord): boolean {
  return job.kind === 'train' || job.kind === 'finetune';
}

const outDirOf = (job: JobRecord) => (job.params as { outDir: string }).outDir;

/**
 * Runs of `kind` still going, or paused (cancelled or interrupted) and not yet continued by a
 * later run in the same output folder. `jobs` newest first, as the core lists them.
 */
export function unfinishedRuns(jobs: JobRecord[], kind: string): JobRecord[] {
  return jobs.filter((job, i) => {
    if (job.kind !== kind) return false;
    if (job.state === 'queued' || job.state === 'running') return true;
    if (job.state !== 'cancelled' && job.state !== 'interrupted') return false;
    return !jobs.slice(0, i).some((later) => isTraining(later) && outDirOf(later) === outDirOf(job));
  });
}

/** The last part of a path, on any system. */
export function baseName(path: string): string {
  return (
    path
      .replace(/[\\/]+$/, '')
      .split(/[\\/]/)
      .at(-1) ?? path
  );
}
