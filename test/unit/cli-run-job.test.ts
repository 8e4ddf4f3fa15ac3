import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runJobInTerminal } from '../../electron/cli/run-job.js';
import type { JobContext } from '../../electron/core/jobs/types.js';

// A CLI job's run folder is scratch: each command made one in the temporary directory and left it.
describe('runJobInTerminal', () => {
  const job = (fail: boolean, seen: string[]) => ({
    kind: 'scratch-check',
    run: async (_params: null, ctx: JobContext) => {
      expect(existsSync(ctx.runDir)).toBe(true);
      writeFileSync(join(ctx.runDir, 'metrics.jsonl'), '{}\n');
      seen.push(ctx.runDir);
      if (fail) throw new Error('the job failed');
      return 42;
    },
  });

  it('gives the job a run folder and removes it when the job ends', async () => {
    const seen: string[] = [];
    await expect(runJobInTerminal(job(false, seen), null, { quiet: true })).resolves.toBe(42);
    expect(seen).toHaveLength(1);
    expect(existsSync(seen[0]!)).toBe(false);
  });

  it('removes it when the job fails, and passes the error on', async () => {
    const seen: string[] = [];
    await expect(runJobInTerminal(job(true, seen), null, { quiet: true })).rejects.toThrow('the job failed');
    expect(existsSync(seen[0]!)).toBe(false);
  });
});
