// The 'count' test job (test/fixtures/jobs/count.mjs) as the JobManager sees it: its settings, and how
// it resumes (a cancelled or paused count with params.outDir saves its last step in
// <outDir>/checkpoint.json), so tests pause and resume it as they would training.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { JobKind, Resumable } from '../../electron/core/jobs/job-manager.js';

export const countModule = fileURLToPath(new URL('../fixtures/jobs/count.mjs', import.meta.url));

export const countParams = z.object({
  steps: z.number().int().min(1),
  holdFile: z.string().optional(),
  holdAt: z.number().int().min(1).optional(),
  delayMs: z.number().optional(),
  crash: z.boolean().optional(),
  fail: z.boolean().optional(),
  ignoreCancel: z.boolean().optional(),
  outDir: z.string().optional(),
  resume: z.boolean().default(false),
});
export type CountParams = z.infer<typeof countParams>;

export const countResume: Resumable = {
  checkpoint: async (p) => {
    const file = join(p.outDir, 'checkpoint.json');
    if (!existsSync(file)) return null;
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { step: number; savedAt: string };
    return { kind: 'training', step: saved.step, steps: Number(p.steps), savedAt: saved.savedAt };
  },
  dir: '.',
  family: new Set(['count']),
};

/** The count job as a kind; with `resume`, one that can pause and resume. */
export function countKind(title: JobKind['title'] = (p) => `Count to ${(p as CountParams).steps}`, resume?: Resumable): JobKind {
  return { module: countModule, params: countParams, title, ...(resume && { resume }) };
}
