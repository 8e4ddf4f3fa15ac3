// The folder a stage writes its new model to: its default name, and what makes a folder unusable.
// With .js extensions, as the tests type-check this module under Node's module resolution too.
import type { ModelEntry } from '../../../electron/api/contract.js';
import { folderSafe, shortModelName, stageModelName, type StageNumber } from '../../../electron/shared/model-names.js';

/** What a new model's folder must not clash with: the folders in use (library models, runs' outputs) and the library's names. */
export interface TakenNames {
  paths: readonly string[];
  names: readonly string[];
}

/**
 * workspace/models/<short model name> · stage 1 (or 2), in the workspace's own path style; for a
 * whole conversion ('both') the folder holding both stages, workspace/models/<short model name>.
 * A " (2)", " (3)"… is added only when that folder or the names of the models it makes are taken.
 */
export function stageOutDir(workspaceDir: string, modelName: string, stage: StageNumber | 'both', taken: TakenNames): string {
  const sep = workspaceDir.includes('\\') && !workspaceDir.includes('/') ? '\\' : '/';
  const parent = `${workspaceDir.replace(/[\\/]+$/, '')}${sep}models${sep}`;
  const base = folderSafe(shortModelName(modelName));
  const paths = taken.paths.map(comparable);
  const names = new Set(taken.names.map((n) => n.toLowerCase()));
  for (let copy = 1; ; copy++) {
    const name = copy === 1 ? base : `${base} (${copy})`;
    const folder = `${parent}${stage === 'both' ? name : stageModelName(name, stage)}`;
    const made = stage === 'both' ? [stageModelName(name, 1), stageModelName(name, 2)] : [stageModelName(name, stage)];
    // A folder above them all (the workspace) is no clash: only one that is, or lies inside, the new folder.
    const inUse = paths.some((p) => sameOrInside(p, comparable(folder)));
    if (!inUse && !made.some((n) => names.has(n.toLowerCase()))) return folder;
  }
}

/** Paths compared as the case-insensitive file systems of Windows and macOS do, without a trailing separator. */
function comparable(path: string): string {
  return trimmed(path).toLowerCase();
}

/** Whether `inner` is `outer` or lies inside it, in either path style. */
function sameOrInside(inner: string, outer: string): boolean {
  return inner === outer || inner.startsWith(`${outer}/`) || inner.startsWith(`${outer}\\`);
}

/**
 * Why the job cannot write to `outDir`, in words; null when it can. The same rule as the core's
 * (storage/owned-folder), told before the job starts: never a folder that holds or lies inside a model
 * of the library or the job's data.
 */
export function outDirProblem(outDir: string, models: ModelEntry[], dataPath = ''): string | null {
  const folder = trimmed(outDir);
  if (folder === '') return 'Choose an output folder (Advanced settings).';
  if (models.some((m) => m.path === folder)) return 'A model in the library lives in that output folder; choose another one so it is not replaced.';
  const holds = models.find((m) => sameOrInside(m.path, folder));
  if (holds) return `That output folder holds "${holds.name}" from the library; choose a new folder outside it.`;
  const inside = models.find((m) => sameOrInside(folder, m.path));
  if (inside) return `That output folder is inside the folder of "${inside.name}"; choose a folder outside it.`;
  const data = trimmed(dataPath);
  if (data !== '' && (sameOrInside(data, folder) || sameOrInside(folder, data)))
    return 'That output folder holds, or is inside, the text to train on; choose another one.';
  return null;
}

function trimmed(path: string): string {
  return path.trim().replace(/[\\/]+$/, '');
}
