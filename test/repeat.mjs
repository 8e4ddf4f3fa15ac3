#!/usr/bin/env node
// `npm run test:repeat -- [--times N] [--load] [vitest filters...]`: runs the vitest suites N times in
// a row (10 by default) to prove they do not fail by chance; --load keeps every core busy with a
// parallel job meanwhile, as a slower or busier machine would. Ends with "K of N runs passed".
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { summarise } from './vitest-summary.mjs';

const args = process.argv.slice(2);
/** Removes a flag (and its value) from the arguments passed on to vitest. */
function takeFlag(flag, withValue) {
  const at = args.indexOf(flag);
  if (at < 0) return undefined;
  const [, value] = args.splice(at, withValue ? 2 : 1);
  return withValue ? value : true;
}
const times = Number(takeFlag('--times', true) ?? 10);
const load = takeFlag('--load', false) ?? false;

const busy = load ? Array.from({ length: availableParallelism() }, () => new Worker('for (;;) {}', { eval: true })) : [];
const dir = mkdtempSync(join(tmpdir(), 'fas-repeat-'));
let passedRuns = 0;
for (let run = 1; run <= times; run++) {
  const report = join(dir, `run-${run}.json`);
  const started = Date.now();
  const status = spawnSync('npx', ['vitest', 'run', '--reporter=dot', '--reporter=json', `--outputFile.json=${report}`, ...args], { stdio: 'inherit' }).status;
  let line = 'vitest stopped before writing its report';
  let ok = false;
  try {
    const summary = summarise(JSON.parse(readFileSync(report, 'utf8')));
    const outside = status !== 0 && summary.failed === 0 ? ' (and errors outside any test)' : '';
    line = `${summary.passed} passed, ${summary.failed} failed${outside}`;
    ok = status === 0 && summary.failed === 0;
  } catch {
    // no report: `line` says so
  }
  if (ok) passedRuns++;
  console.log(`run ${run} of ${times}${load ? ' (under load)' : ''}: ${line} in ${Math.round((Date.now() - started) / 1000)} s`);
}
for (const worker of busy) await worker.terminate();
rmSync(dir, { recursive: true, force: true });
console.log(`\n${passedRuns} of ${times} runs passed`);
process.exit(passedRuns === times ? 0 : 1);
