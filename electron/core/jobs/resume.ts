// Resume for the kinds that declare it (training and calibration): both save a checkpoint as they go
// (training before it stops, calibration after every layer), so a paused, cancelled, interrupted or
// failed run continues from <outDir>/checkpoint. Resuming continues the same run: its record, run
// folder, log and chart points, with resume switched on in its settings.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CalibrationCheckpoint, JobRecord, ResumeInfo, TrainingCheckpoint } from '../../api/contract.js';
import { CALIBRATION_CHECKPOINT_DIR, nextStep, readCalibrationState } from '../calibration/checkpoint.js';
import { STATE_FILE } from '../training/checkpoint.js';
import { CHECKPOINT_DIR } from '../training/train-loop.js';
import { ApiError } from '../api/errors.js';
import type { JobManager, Resumable, ResumableParams } from './job-manager.js';

/** The job kinds that run the training loop (settings.ts): they write a model to params.outDir. */
export const TRAINING_KINDS: ReadonlySet<string> = new Set(['train', 'finetune']);

const STOPPED = new Set<JobRecord['state']>(['paused', 'cancelled', 'interrupted', 'failed']);

/** How a training run (train, finetune) resumes. */
export const trainingResume: Resumable = { checkpoint: readTrainingCheckpoint, dir: CHECKPOINT_DIR, family: TRAINING_KINDS };
/** How a calibration run resumes. */
export const calibrationResume: Resumable = { checkpoint: readCalibrationCheckpoint, dir: CALIBRATION_CHECKPOINT_DIR, family: new Set(['calibrate']) };

/** The output folder of a run of a resumable kind (all of them write one). */
const outDirOf = (job: JobRecord): string | null => (typeof job.params.outDir === 'string' ? job.params.outDir : null);

export async function resumeInfo(jobs: JobManager, id: string): Promise<ResumeInfo> {
  const job = jobs.get(id);
  const no = (reason: string, checkpoint: ResumeInfo['checkpoint'] = null, resumedBy: string | null = null): ResumeInfo => ({
    canResume: false,
    reason,
    checkpoint,
    resumedBy,
  });
  const resume = jobs.kind(job.kind).resume;
  const outDir = outDirOf(job);
  if (!resume || outDir === null) return no('Only training and calibration runs can be paused and resumed.');
  if (!STOPPED.has(job.state)) return no(job.state === 'done' ? 'This run has finished.' : 'This run has not stopped.');
  const later = laterRunInSameFolder(jobs, job, outDir, resume.family);
  if (later) return no(`A later run, "${later.title}", writes to the same output folder.`, null, later.id);
  let checkpoint: ResumeInfo['checkpoint'];
  try {
    checkpoint = await resume.checkpoint({ ...job.params, outDir });
  } catch (err) {
    return no(`The checkpoint in ${join(outDir, resume.dir)} cannot be read (${(err as Error).message}).`);
  }
  if (!checkpoint && job.state === 'failed') {
    return no('It failed before saving a checkpoint, so there is nothing to continue: fix the problem and start it again.');
  }
  return { canResume: true, reason: null, checkpoint, resumedBy: null };
}

/** Continues the run with the same settings: from its checkpoint, or from the beginning when it saved none. */
export async function resumeJob(jobs: JobManager, id: string): Promise<JobRecord> {
  const info = await resumeInfo(jobs, id);
  if (!info.canResume) throw new ApiError('bad_request', `This run cannot be resumed: ${info.reason}`);
  const job = jobs.get(id);
  // A run stopped before its first checkpoint starts again with its own settings: its folder then holds
  // nothing but the app's mark, and overwriting is never switched on for the user.
  return jobs.requeue(id, { ...job.params, resume: info.checkpoint !== null });
}

/** A run of the same family started after `job` that writes to the same folder (it replaced its output). */
function laterRunInSameFolder(jobs: JobManager, job: JobRecord, outDir: string, family: ReadonlySet<string>): JobRecord | undefined {
  const folder = resolve(outDir);
  return jobs
    .list()
    .filter((other) => family.has(other.kind) && other.createdAt > job.createdAt)
    .findLast((other) => outDirOf(other) !== null && resolve(outDirOf(other)!) === folder);
}

async function readTrainingCheckpoint(params: ResumableParams): Promise<TrainingCheckpoint | null> {
  let text: string;
  try {
    text = await readFile(join(params.outDir, CHECKPOINT_DIR, STATE_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const state = JSON.parse(text) as { step?: unknown; savedAt?: unknown };
  if (typeof state.step !== 'number' || typeof state.savedAt !== 'string') throw new Error(`${STATE_FILE} is not a trainer state this app wrote`);
  return { kind: 'training', step: state.step, steps: typeof params.steps === 'number' ? params.steps : state.step, savedAt: state.savedAt };
}

async function readCalibrationCheckpoint(params: ResumableParams): Promise<CalibrationCheckpoint | null> {
  const state = await readCalibrationState(join(params.outDir, CALIBRATION_CHECKPOINT_DIR));
  return state && { kind: 'calibration', next: nextStep(state), savedAt: state.savedAt };
}
