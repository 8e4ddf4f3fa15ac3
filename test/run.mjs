#!/usr/bin/env node
// `npm test`: type-check and lint everything, then run every vitest suite (unit, native, model, end-to-end)
// and close with the line CI reads: "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { summarise } from './vitest-summary.mjs';

function run(cmd, args) {
  console.log(`\n> ${cmd} ${args.join(' ')}`);
  return spawnSync(cmd, args, { stdio: 'inherit', shell: false }).status ?? 1;
}

const typecheck = run('npm', ['run', '--silent', 'typecheck']);
const lint = run('npm', ['run', '--silent', 'lint']);
const report = join(mkdtempSync(join(tmpdir(), 'fas-test-')), 'vitest.json');
const vitest = run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)]);

let passed = 0;
let failed = 0;
try {
  const summary = summarise(JSON.parse(readFileSync(report, 'utf8')));
  for (const file of summary.brokenFiles) console.log(`failed to run: ${file.name}: ${file.message}`);
  ({ passed, failed } = summary);
} catch {
  console.log('vitest stopped before writing its report');
  failed += 1;
}
rmSync(dirname(report), { recursive: true, force: true });
if (vitest !== 0 && failed === 0) {
  console.log('vitest failed outside any test (see its "Unhandled Errors" above)');
  failed += 1;
}
if (typecheck !== 0) {
  console.log('type-check failed');
  failed += 1;
}
if (lint !== 0) {
  console.log('lint failed (npm run format fixes the layout; the rest is named above)');
  failed += 1;
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(typecheck === 0 && lint === 0 && vitest === 0 && failed === 0 ? 0 : 1);
