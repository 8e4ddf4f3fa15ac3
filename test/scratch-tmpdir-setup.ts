// Vitest global setup: the run's temporary folders (every test's, and those of the processes the
// tests start, which inherit TMPDIR) go under one scratch folder that is removed when the run ends.
// A run made some 240 folders and left them in the system's temporary directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const scratch = mkdtempSync(join(tmpdir(), 'fas-tests-'));
  process.env.TMPDIR = scratch;
  return () => rmSync(scratch, { recursive: true, force: true });
}
