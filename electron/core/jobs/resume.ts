// Pause and resume for training runs. Pausing is cancelling: the training loop saves a checkpoint
// before it stops. Resuming starts a new job of the same kind with the same settings and
// resume: true, which continues exactly from that checkpoint (<outDir>/checkpoint).
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { JobRecord, ResumeInfo, TrainingCheckpoint } from '../../api/contract.js';
import { STATE_FILE } from '../training/checkpoint.js';
import { CHECKPOINT_DIR } from '../training/train-loop.js';
import { ApiError } from '../api/errors.js';
import type { JobManager } from './job-manager.js';

/** The job kinds that run the training loop (settings.ts): they write a model to params.outDir. */
export const TRAINING_KINDS: ReadonlySet<string> = new Set(['train', 'finetune']);

const STOPPED = new Set(['cancelled', 'interrupted', 'failed']);

interface TrainingParams {
  outDir: string;
  steps: number;
}

export async function resumeInfo(jobs: JobManager, id: string): Promise<ResumeInfo> {
  const job = jobs.get(id);
  const no = (reason: string, checkpoint: TrainingCheckpoint | null = null, resumedBy: string | null = null): ResumeInfo => ({
    canResume: false,
    reason,
    checkpoint,
    resumedBy,
  });
  if (!TRAINING_KINDS.has(job.kind)) return no('Only training runs can be paused and resumed.');
  if (!STOPPED.has(job.state)) return no(job.state === 'done' ? 'This run has finished.' : 'This run has not stopped.');
  const params = job.params as TrainingParams;
  const later = laterRunInSameFolder(jobs, job);
  if (later) return no(`A later run, "${later.title}", continues in the same output folder.`, null, later.id);
  let checkpoint: TrainingCheckpoint | null;
  try {
    checkpoint = await readCheckpoint(params);
  } catch (err) {
    return no(`The checkpoint in ${join(params.outDir, CHECKPOINT_DIR)} cannot be read (${(err as Error).message}).`);
  }
  if (!checkpoint && job.state === 'failed') {
    return no('It failed before saving a checkpoint, so there is nothing to continue: fix the problem and start it again.');
  }
  return { canResume: true, reason: null, checkpoint, resumedBy: null };
}

/** Starts the run again with the same settings: from its checkpoint, or from the beginning when it saved none. */
export async function resumeJob(jobs: JobManager, id: string): Promise<JobRecord> {
  const info = await resumeInfo(jobs, id);
  if (!info.canResume) throw new ApiError('bad_request', `This run cannot be resumed: ${info.reason}`);
  const job = jobs.get(id);
  return jobs.start(job.kind, { ...(job.params as object), resume: info.checkpoint !== null });
}

/** A training run started after `job` that writes to the same folder (it resumed it, or replaced it). */
function laterRunInSameFolder(jobs: JobManager, job: JobRecord): JobRecord | undefined {
  const folder = resolve((job.params as TrainingParams).outDir);
  return jobs
    .list()
    .filter((other) => TRAINING_KINDS.has(other.kind) && other.createdAt > job.createdAt)
    .findLast((other) => resolve((other.params as TrainingParams).outDir) === folder);
}

async function readCheckpoint(params: TrainingParams): Promise<TrainingCheckpoint | null> {
  let text: string;
  try {
    text = await readFile(join(params.outDir, CHECKPOINT_DIR, STATE_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const state = JSON.parse(text) as { step?: unknown; savedAt?: unknown };
  if (typeof state.step !== 'number' || typeof state.savedAt !== 'string') throw new Error(`${STATE_FILE} is not a trainer state this app wrote`);
  return { step: state.step, steps: params.steps, savedAt: state.savedAt };
}
