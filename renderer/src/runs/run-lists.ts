// Runs as the wizards list them: which runs of a kind are unfinished (going, or stopped at a
// checkpoint to continue), and the last part of a path to name a model by.
import type { JobRecord } from '../../../electron/api/contract';

/**
 * Runs of `kind` still going, or paused or interrupted and not replaced since by a later run in the
 * same output folder (a cancelled run was stopped on purpose: Runs still offers to resume it).
 * `jobs` newest first, as the core lists them.
 */
export function unfinishedRuns(jobs: JobRecord[], kind: string): JobRecord[] {
  return jobs.filter((job, i) => {
    if (job.kind !== kind) return false;
    if (job.state === 'queued' || job.state === 'running') return true;
    if (job.state !== 'paused' && job.state !== 'interrupted') return false;
    return !jobs.slice(0, i).some((later) => later.kind === kind && later.params.outDir === job.params.outDir);
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
