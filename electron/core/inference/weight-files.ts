// The engine reads F32 weights straight from the memory-mapped safetensors files. If such a file is
// truncated or rewritten while the model is loaded (a download finishing, a re-export, a user
// deleting the folder), touching the mapping kills the process with SIGBUS. The files' size, time
// and inode are noted at load, and every native call that reads the mapping checks them first, so
// a changed file is reported with a message that says to reload the model instead of crashing.
import { statSync } from 'node:fs';
import type { NativeModel, NativeSession } from '../../../native/index.js';

export class WeightFileChangedError extends Error {
  override name = 'WeightFileChangedError';
}

interface Fingerprint {
  file: string;
  size: number;
  mtimeMs: number;
  ino: number;
}

function fingerprint(file: string): Fingerprint | null {
  const info = statSync(file, { throwIfNoEntry: false });
  return info ? { file, size: info.size, mtimeMs: info.mtimeMs, ino: info.ino } : null;
}

/** Notes the files now; the returned check throws WeightFileChangedError once any of them changed. */
export function watchWeightFiles(files: readonly string[]): () => void {
  const noted = [...new Set(files)].map((file) => fingerprint(file) ?? { file, size: -1, mtimeMs: -1, ino: -1 });
  return () => {
    for (const before of noted) {
      const now = fingerprint(before.file);
      if (now && now.size === before.size && now.mtimeMs === before.mtimeMs && now.ino === before.ino) continue;
      const what = !now
        ? 'was deleted'
        : now.size !== before.size
          ? `changed size (${before.size.toLocaleString('en-US')} to ${now.size.toLocaleString('en-US')} bytes)`
          : 'was replaced or rewritten';
      throw new WeightFileChangedError(`${before.file} ${what} after the model was loaded. Reload the model (choose it again) to use the new file.`);
    }
  };
}

/** The engine with `check` run before every call that reads the weights' mapping. */
export function guardEngine(engine: NativeModel, check: () => void): NativeModel {
  const guardSession = (session: NativeSession): NativeSession => ({
    eval: async (ids) => (check(), session.eval(ids)),
    score: async (ids, targets) => (check(), session.score(ids, targets)),
    truncate: (length) => session.truncate(length),
    generate: async (options, onToken) => (check(), session.generate(options, onToken)),
    abort: () => session.abort(),
    reset: () => session.reset(),
    lastStats: () => session.lastStats(),
  });
  return {
    forward: async (ids, batch, seqLen, options) => (check(), engine.forward(ids, batch, seqLen, options)),
    forwardWithStats: async (ids, batch, seqLen, options) => (check(), engine.forwardWithStats(ids, batch, seqLen, options)),
    targetLogProbs: async (ids, batch, seqLen, targets, options) => (check(), engine.targetLogProbs(ids, batch, seqLen, targets, options)),
    siteThresholds: async (ids, batch, seqLen, percentile) => (check(), engine.siteThresholds(ids, batch, seqLen, percentile)),
    createSession: (options) => guardSession(engine.createSession(options)),
    dispose: () => engine.dispose(),
  };
}
