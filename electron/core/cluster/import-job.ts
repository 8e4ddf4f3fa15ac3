// `fas import-job` and the library's "Import a finished cluster run": checks the model a cluster job
// wrote with the app's own readers (the model folder, the spiking config and thresholds) and adds it to
// the library as a child of the model the job was exported from.
import { access, readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { ModelEntry } from '../../api/contract.js';
import type { ModelLibrary } from '../library/library.js';
import { openModelFolder } from '../model/folder.js';
import { readSpikingConfig } from '../spiking/spiking-config.js';
import { readAllScopeWeights, readSpikingWeights } from '../spiking/spiking-weights.js';
import { ClusterJobError } from './errors.js';
import { OUTPUT_CHECKPOINT_DIR, OUTPUT_MODEL_DIR, readJobFile } from './job-format.js';

export async function importClusterJob(jobDirPath: string, library: ModelLibrary): Promise<ModelEntry> {
  const jobDir = resolve(jobDirPath);
  const job = await readJobFile(jobDir);
  const modelDir = join(jobDir, OUTPUT_MODEL_DIR);
  if (!(await exists(modelDir))) {
    const checkpoint = await readCheckpointStep(join(jobDir, OUTPUT_CHECKPOINT_DIR));
    throw new ClusterJobError(
      `The job in ${jobDir} has not finished: there is no ${OUTPUT_MODEL_DIR} yet` +
        (checkpoint === null
          ? '. Run launch.sh on the cluster, then copy the folder back.'
          : ` (its last checkpoint is at step ${checkpoint}; run launch.sh again to continue).`),
    );
  }
  const folder = await openModelFolder(modelDir);
  const spiking = await readSpikingConfig(modelDir);
  if (!spiking || spiking.calibration !== 'none') {
    throw new ClusterJobError(`${modelDir} is not a stage-1 model: it lacks spiking_config.json with calibration "none". Run the job again.`);
  }
  if (folder.spec.numLayers !== job.model.numLayers || folder.spec.ffnSize !== job.model.ffnSize || folder.spec.family !== job.model.family) {
    throw new ClusterJobError(`${modelDir} does not have the shape of the model the job was exported from (${job.sourceModel.name}).`);
  }
  if (spiking.scope === 'all') await readAllScopeWeights(modelDir, folder.spec);
  else await readSpikingWeights(modelDir, folder.spec.numLayers, folder.spec.ffnSize, false);
  const parent = (await library.list()).find((m) => m.path === resolve(job.sourceModel.path));
  return library.open(modelDir, { name: `${job.sourceModel.name} · stage 1 (cluster, ${basename(jobDir)})`, parentId: parent?.id ?? null });
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function readCheckpointStep(dir: string): Promise<number | null> {
  try {
    const state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as { step?: unknown };
    return typeof state.step === 'number' ? state.step : null;
  } catch {
    return null;
  }
}
