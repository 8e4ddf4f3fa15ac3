// A finished run adds the models it wrote to the library, each with the model it was made from as
// its parent (its kind's `outputs` in jobs/kinds.ts), whether or not a wizard is still open to see it finish.
import { resolve } from 'node:path';
import type { JobRecord, ModelEntry } from '../../api/contract.js';
import type { ModelLibrary } from '../library/library.js';
import type { JobKind } from './job-manager.js';

/** Adds a finished run's outputs to the library, in order; returns the last one, or null for a kind that writes no model. */
export async function addOutputToLibrary(job: JobRecord, kind: JobKind | undefined, library: ModelLibrary): Promise<ModelEntry | null> {
  let last: ModelEntry | null = null;
  for (const { from, made } of (job.result && kind?.outputs?.(job.params, job.result)) || []) last = await addChild(library, from, made);
  return last;
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
