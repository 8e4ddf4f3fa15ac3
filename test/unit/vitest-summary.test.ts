// The closing line of `npm test` agrees with vitest's own counts on a real run of a tiny project
// with a passing, a failing and an unloadable test file.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { summarise } from '../vitest-summary.mjs';

it('counts failed tests once, and each file that failed without a failing test', () => {
  const config = fileURLToPath(new URL('../fixtures/vitest-summary/vitest.config.mjs', import.meta.url));
  const report = join(mkdtempSync(join(tmpdir(), 'fas-summary-')), 'report.json');
  const run = spawnSync('npx', ['vitest', 'run', '--config', config, '--reporter=json', `--outputFile.json=${report}`], { encoding: 'utf8' });
  expect(run.status).toBe(1);
  const results = JSON.parse(readFileSync(report, 'utf8'));
  expect([results.numPassedTests, results.numFailedTests, results.numFailedTestSuites]).toEqual([3, 1, 2]);
  const summary = summarise(results);
  expect(summary.passed).toBe(3);
  expect(summary.failed).toBe(2);
  expect(summary.brokenFiles).toEqual([{ name: expect.stringMatching(/broken\.check\.ts$/), message: expect.stringContaining('this file cannot be loaded') }]);
}, 30_000);
