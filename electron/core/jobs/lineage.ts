// A finished training or calibration run adds the model it wrote to the library, with the model it
// started from as its parent, whether or not a wizard is still open to see it finish.
import { resolve } from 'node:path';
import type { CalibrationResult, JobRecord, ModelEntry, TrainingResult } from '../../api/contract.js';
import type { ModelLibrary } from '../library/library.js';
import { TRAINING_KINDS } from './resume.js';

/** Kinds that write one model folder (result.outDir) made from params.modelDir: training, and stage 2. */
const MODEL_MAKING_KINDS: ReadonlySet<string> = new Set([...TRAINING_KINDS, 'calibrate']);

/** Adds a finished run's output to the library; other jobs add nothing (null). */
export async function addOutputToLibrary(job: JobRecord, library: ModelLibrary): Promise<ModelEntry | null> {
  const params = job.params as { modelDir: string };
  if (job.kind === 'convert') {
    // Both stages, each the child of the one before: source -> stage 1 -> stage 2.
    const { stage1, calibration } = job.result as { stage1: TrainingResult; calibration: CalibrationResult };
    const qcfs = await addChild(library, params.modelDir, stage1.outDir);
    return addChild(library, qcfs.path, calibration.outDir);
  }
  if (!MODEL_MAKING_KINDS.has(job.kind)) return null;
  return addChild(library, params.modelDir, (job.result as TrainingResult | CalibrationResult).outDir);
}

async function addChild(library: ModelLibrary, parentDir: string, outDir: string): Promise<ModelEntry> {
  try {
    const source = (await library.list()).find((model) => model.path === resolve(parentDir));
    return await library.open(outDir, { parentId: source?.id ?? null });
  } catch (err) {
    throw new Error(
      `the model it wrote could not be added to the library (${err instanceof Error ? err.message : String(err)}). ` + `Open ${outDir} from the Library page.`,
      { cause: err },
    );
  }
}
