import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../../dist/electron/cli/fas.js', import.meta.url));

async function fas(...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('fas CLI', () => {
  it('prints help', async () => {
    const res = await fas('--help');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('Usage: fas');
    expect(res.stdout).toContain('hardware');
  });

  it('prints its version', async () => {
    const res = await fas('--version');
    expect(res.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('prints the hardware as JSON', async () => {
    const res = await fas('hardware', '--json');
    expect(res.code).toBe(0);
    const hw = JSON.parse(res.stdout);
    expect(hw.logicalCores).toBeGreaterThan(0);
    expect(['cpu', 'cuda']).toContain(hw.backend);
  });

  it('suggests the right command on a typo', async () => {
    const res = await fas('hardwre');
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('Did you mean hardware?');
  });
});
