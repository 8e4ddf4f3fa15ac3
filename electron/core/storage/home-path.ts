// Paths as people type them: "~" and "~/…" mean the home folder, as in a shell, on every system (a
// path typed into the app never goes through a shell that would expand it).
import os from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

export function expandHome(path: string): string {
  if (path === '~') return os.homedir();
  return /^~[\\/]/.test(path) ? join(os.homedir(), path.slice(2)) : path;
}

/** A file or folder parameter of a job: a non-empty path, "~" expanded. */
export const pathParam = z.string().min(1).transform(expandHome);
