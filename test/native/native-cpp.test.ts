// Runs the C++ test executable (native/tests), one vitest case per C++ TEST().
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const exe = fileURLToPath(new URL('../../native/build/fas_native_tests', import.meta.url));

describe('native C++ tests', () => {
  it('are built', () => {
    expect(existsSync(exe), `${exe} is missing: run "npm run build:native"`).toBe(true);
  });
  const names = existsSync(exe) ? execFileSync(exe, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean) : [];
  for (const name of names) {
    it(name, () => {
      const res = spawnSync(exe, ['--run', name], { encoding: 'utf8', timeout: 60_000 });
      expect(res.status, res.stdout + res.stderr).toBe(0);
    });
  }
});
