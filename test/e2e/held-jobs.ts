// Job kinds that a test can hold still: while the hold file exists, a run stops at its first
// progress report with a fraction above 0 (and a message that matches the one the file holds, if
// any) and waits there, once per run, so a test clicks Pause or Cancel on a job that is certainly
// running, not racing one that may already have finished. The real job module runs unchanged around
// the hold (generated wrapper modules, one per kind).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compiledPath } from '../../electron/core/compiled-path.js';
import type { JobKind } from '../../electron/core/jobs/job-manager.js';
import { jobKinds } from '../../electron/core/jobs/kinds.js';
import { onTestFinished } from 'vitest';

export interface JobHold {
  /** The app's job kinds, each wrapped with the hold. */
  kinds: Record<string, JobKind>;
  /** From now on, runs stop at their next progress past 0 (whose message matches `at`, if given) until release(), or the end of the test. */
  hold(at?: RegExp): void;
  release(): void;
}

export function jobHold(): JobHold {
  const dir = mkdtempSync(join(tmpdir(), 'fas-held-jobs-'));
  const holdFile = join(dir, 'hold');
  const kinds: Record<string, JobKind> = {};
  for (const [name, kind] of Object.entries(jobKinds)) {
    const real = compiledPath(kind.module, new URL('../../electron/core/jobs/job-manager.ts', import.meta.url).href);
    const wrapper = join(dir, `${name}.mjs`);
    writeFileSync(
      wrapper,
      `import { existsSync, readFileSync } from 'node:fs';
import real from ${JSON.stringify(real)};
const sleeper = new Int32Array(new SharedArrayBuffer(4));
export default {
  ...real,
  run(params, ctx) {
    let held = false;
    return real.run(params, {
      ...ctx,
      progress(update) {
        ctx.progress(update);
        if (held || !(update.fraction > 0)) return;
        let at;
        try {
          at = readFileSync(${JSON.stringify(holdFile)}, 'utf8');
        } catch {
          return; // no hold
        }
        if (at && !new RegExp(at).test(update.message)) return;
        held = true;
        // Blocks this job's process (its progress message is already sent); a cancel sent meanwhile
        // is read as soon as the job awaits again.
        while (existsSync(${JSON.stringify(holdFile)})) Atomics.wait(sleeper, 0, 0, 20);
      },
    });
  },
};
`,
    );
    kinds[name] = { ...kind, module: wrapper };
  }
  return {
    kinds,
    hold: (at) => {
      writeFileSync(holdFile, at?.source ?? '');
      // Jobs run one at a time: a job left holding by a failed test would stall every later one.
      onTestFinished(() => rmSync(holdFile, { force: true }));
    },
    release: () => rmSync(holdFile, { force: true }),
  };
}
