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

/** Why the job cannot write to `outDir`, in words; null when it can. */
export function outDirProblem(outDir: string, models: ModelEntry[]): string | null {
  const folder = outDir.trim().replace(/[\\/]+$/, '');
  if (folder === '') return 'Choose an output folder (Advanced settings).';
  if (models.some((m) => m.path === folder)) return 'A model in the library lives in that output folder; choose another one so it is not replaced.';
  return null;
}
