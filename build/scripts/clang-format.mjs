#!/usr/bin/env node
// The C++ half of `npm run lint` (--check) and `npm run format` (--write): clang-format over the engine's
// sources, its tests and the C++ anchor in build/scripts, with the style in .clang-format.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const DIRS = ['native/src', 'native/tests', 'build/scripts'];
const SOURCE = /\.(cpp|h|cu|cuh)$/;
// The style was tuned on Debian 12's clang-format; other major versions lay out a few constructs differently.
const TUNED_ON = 14;

const mode = process.argv[2];
if (mode !== '--check' && mode !== '--write') {
  console.error('usage: clang-format.mjs --check | --write');
  process.exit(2);
}

const probe = spawnSync('clang-format', ['--version'], { encoding: 'utf8' });
if (probe.error) {
  console.error('clang-format is not installed, so the C++ sources cannot be checked. Install it (Debian/Ubuntu: apt-get install clang-format).');
  process.exit(1);
}

const files = DIRS.flatMap((dir) =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => SOURCE.test(f))
    .map((f) => join(dir, f)),
).sort();
const args = mode === '--check' ? ['--dry-run', '--Werror'] : ['-i'];
const status = spawnSync('clang-format', [...args, ...files], { stdio: 'inherit' }).status ?? 1;
if (status !== 0 && mode === '--check') {
  const major = Number(/version (\d+)/.exec(probe.stdout)?.[1]);
  const note = major === TUNED_ON ? '' : ` (this is clang-format ${major}; the style was tuned on ${TUNED_ON}, which may lay out a few lines differently)`;
  console.error(`C++ formatting differs from .clang-format in the files above: npm run format fixes it${note}.`);
}
process.exit(status);
