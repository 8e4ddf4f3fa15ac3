import { writeFileAtomic } from '../../core/storage/json-file.js';
import type { Command } from 'commander';
import { evalSettings, runEvaluation, type EvalReport } from '../../core/eval/evaluate.js';
import { rowWords } from '../../shared/reply-words.js';
import { htmlReport } from '../../core/eval/html-report.js';
import { SHIPPED_TASKS } from '../../core/eval/tasks.js';
import { intList, positiveInt } from '../options.js';
import { runJobInTerminal } from '../run-job.js';

export function registerEvalCommand(program: Command): void {
  program
    .command('eval <model-dir>')
    .description('Evaluate a model: perplexity or a multiple-choice task, against the number of timesteps T for spiking models')
    .option('--task <task>', `${SHIPPED_TASKS.map((t) => t.name).join(', ')}, a .jsonl multiple-choice file, or a text file/folder for perplexity`, 'ppl')
    .option('--T <list>', 'timesteps of the spiking model, e.g. 1,2,4,8', intList)
    .option('--limit <n>', 'items of a task, or tokens of a text', positiveInt)
    .option('--block <n>', 'tokens per window for perplexity', positiveInt)
    .option('--json', 'print the report as JSON')
    .option('--report <file.html>', 'also write a self-contained HTML report with charts')
    .action(async (dir: string, o: { task: string; T?: number[]; limit?: number; block?: number; json?: boolean; report?: string }) => {
      const settings = evalSettings.parse({ modelDir: dir, task: o.task, timesteps: o.T, limit: o.limit, blockSize: o.block });
      const report = await runJobInTerminal({ kind: 'evaluate', run: runEvaluation }, settings);
      if (o.report) await writeFileAtomic(o.report, await htmlReport(report));
      console.log(o.json ? JSON.stringify(report, null, 2) : describeReport(report));
    });
}

export function describeReport(report: EvalReport): string {
  const lines = [`${report.task.name}: ${report.task.size} ${report.task.kind === 'perplexity' ? 'tokens' : 'items'}`];
  for (const r of report.rows) {
    const value =
      r.perplexity !== undefined
        ? `perplexity ${r.perplexity.toFixed(2)}`
        : `accuracy ${(100 * r.acc!).toFixed(1)}%, normalised ${(100 * r.accNorm!).toFixed(1)}%`;
    lines.push(`  ${rowWords(r).padEnd(34)} ${value}`);
  }
  if (report.task.chance !== undefined) lines.push(`  ${'Chance'.padEnd(34)} ${(100 * report.task.chance).toFixed(1)}%`);
  for (const w of report.warnings) lines.push(`Warning: ${w}`);
  return lines.join('\n');
}
