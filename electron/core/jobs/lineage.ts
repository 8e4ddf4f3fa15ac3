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
  if (!MODEL_MAKING_KINDS.has(job.kind)) return null;
  const params = job.params as { modelDir: string };
  const result = job.result as TrainingResult | CalibrationResult;
  try {
    const source = (await library.list()).find((model) => model.path === resolve(params.modelDir));
    return await library.open(result.outDir, { parentId: source?.id ?? null });
  } catch (err) {
    throw new Error(
      `the model it wrote could not be added to the library (${err instanceof Error ? err.message : String(err)}). ` +
        `Open ${result.outDir} from the Library page.`,
    );
  }
}
