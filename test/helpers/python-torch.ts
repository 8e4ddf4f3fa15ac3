// The Python with PyTorch that the cluster-job tests run fas_stage1.py with: FAS_PYTHON, else the first of
// python3 and /usr/bin/python3 that imports torch. None is a test failure with the fix, never a skip.
import { execFileSync } from 'node:child_process';

export const TORCH_MISSING =
  'The cluster-job tests need python3 with PyTorch >= 1.13 (CPU is enough). On Debian/Ubuntu: ' +
  'apt-get install python3-torch libopenblas0-pthread; or point FAS_PYTHON at a python that has torch.';

let found: string | null | undefined;

export function pythonWithTorch(): string {
  if (found === undefined) {
    const candidates = process.env.FAS_PYTHON ? [process.env.FAS_PYTHON] : ['python3', '/usr/bin/python3'];
    found =
      candidates.find((python) => {
        try {
          execFileSync(python, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
          return true;
        } catch {
          return false;
        }
      }) ?? null;
  }
  if (found === null) throw new Error(TORCH_MISSING);
  return found;
}
