// The folder a stage writes its new model to: its default name, and what makes a folder unusable.
// With .js extensions, as the tests type-check this module under Node's module resolution too.
import type { ModelEntry } from '../../../electron/api/contract.js';

/** workspace/models/<model name>-<stage>-<date and time>, in the workspace's own path style. */
export function stageOutDir(workspaceDir: string, modelName: string, stage: 'stage1' | 'stage2', now: Date): string {
  const sep = workspaceDir.includes('\\') && !workspaceDir.includes('/') ? '\\' : '/';
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}`;
  const safeName = modelName.replace(/[^\w.-]+/g, '-').replace(/^[-.]+|-+$/g, '') || 'model';
  return `${workspaceDir.replace(/[\\/]+$/, '')}${sep}models${sep}${safeName}-${stage}-${stamp}`;
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
