import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { lastEvaluation } from '../../core/calibration/report.js';
import { shippedCorpora } from '../../core/data/index.js';
import { demoModelDir } from '../../core/demo/demo-model.js';
import { rowWords } from '../../shared/reply-words.js';
import type { ConversionSummary } from '../../api/contract.js';
import { convertSettings } from '../../core/pipeline/convert.js';
import { convertJob } from '../../core/jobs/kinds/convert.js';
import { defaultWorkspaceDir } from '../../core/workspace.js';
import { positiveInt } from '../options.js';
import type { CalibrationRecipe } from '../../shared/calibration-recipes.js';
import { recipeOption, refuseFlagsPaperSets } from '../recipe-option.js';
import { runJobInTerminal } from '../run-job.js';

interface ConvertOptions {
  demo?: boolean;
  data?: string;
  out?: string;
  steps?: number;
  T?: number;
  level?: 'layer' | 'neuron';
  recipe?: CalibrationRecipe;
  scope?: 'ffn' | 'all';
  samples?: number;
  overwrite?: boolean;
  json?: boolean;
}

export function registerConvertCommand(program: Command): void {
  program
    .command('convert [model-dir]')
    .description('Convert a model into a spiking model in one go: stage 1 (QCFS fine-tuning), stage 2 (calibration), evaluation')
    .option('--demo', 'convert the bundled demo model on the bundled State of the Union text')
    .option('--data <path>', 'text for fine-tuning and calibration (default with --demo: the State of the Union addresses)')
    .option('--out <dir>', 'folder for the two stages (default with --demo: <workspace>/models/demo-spiking)')
    .addOption(
      new Option(
        '--scope <scope>',
        'what spikes: "ffn", the FFN site only (the FAS paper\'s recipe), or "all", every layer (fully spike-driven, lowest energy; no calibration needed)',
      ).choices(['ffn', 'all']),
    )
    .option('--steps <n>', 'stage-1 fine-tuning steps', positiveInt)
    .option('--T <n>', 'timesteps of the spiking model', positiveInt)
    .addOption(new Option('--level <level>', 'calibration: per-layer values only, or per-neuron values after them').choices(['layer', 'neuron']))
    .addOption(recipeOption())
    .option('--samples <n>', 'calibration sequences', positiveInt)
    .option('--overwrite', 'replace an earlier conversion in --out (the default --demo folder is always replaced)')
    .option('--json', 'print the summary as JSON')
    .action(async (dir: string | undefined, o: ConvertOptions) => {
      refuseFlagsPaperSets(o.recipe, o);
      const modelDir = o.demo ? demoModelDir() : dir;
      if (!modelDir) throw new Error('Give a model folder, or --demo for the bundled demo model.');
      const dataPath = o.data ?? (o.demo ? shippedCorpora().find((c) => c.id === 'sotu')?.dataDir : undefined);
      if (!dataPath) throw new Error('Give --data: the text to fine-tune and calibrate on.');
      const outDir = o.out ?? (o.demo ? join(defaultWorkspaceDir(), 'models', 'demo-spiking') : undefined);
      if (!outDir) throw new Error('Give --out: the folder to write the converted model to.');
      const overwrite = o.overwrite ?? (o.demo === true && o.out === undefined);
      const settings = convertSettings.parse({
        modelDir,
        dataPath,
        outDir,
        scope: o.scope,
        steps: o.steps,
        timesteps: o.T,
        level: o.level,
        recipe: o.recipe,
        samples: o.samples,
        overwrite,
      });
      const summary = await runJobInTerminal(convertJob, settings);
      console.log(o.json ? JSON.stringify(summary, null, 2) : describeSummary(summary));
    });
}

export function describeSummary(s: ConversionSummary): string {
  const e = s.evaluation;
  const lines = [`Spiking model written to ${s.modelDir}`, '', `${e.task.name} (${e.task.size} tokens):`];
  for (const r of e.rows) if (r.perplexity !== undefined) lines.push(`  ${rowWords(r).padEnd(34)} ${r.perplexity.toFixed(2)}`);
  if (s.calibration.notNeeded) lines.push('', `Stage 2: ${s.calibration.scope}`);
  const before = s.calibration.evaluations.before;
  const after = lastEvaluation(s.calibration);
  if (before && after) {
    lines.push('', `Calibration at T = ${s.calibration.timesteps} (held-out ${before.tokens} tokens of the training text):`);
    lines.push(
      `  QCFS model ${before.qcfsPerplexity.toFixed(2)}; spiking model ${before.snnPerplexity.toFixed(2)} before, ${after.snnPerplexity.toFixed(2)} after`,
    );
  }
  if (e.firing) lines.push('', `Firing rate per layer at T = ${e.firing.timesteps}: ${e.firing.perLayer.map((r) => r.toFixed(3)).join(', ')}`);
  if (e.energy) {
    const uj = (j: number) => `${(j * 1e6).toFixed(3)} µJ`;
    const snn = e.energy.snnMacJoules + e.energy.snnAcJoules;
    lines.push(
      `Energy per token: ANN ${uj(e.energy.annMacJoules)}; spiking model ${uj(snn)} (${uj(e.energy.snnMacJoules)} MAC + ${uj(e.energy.snnAcJoules)} AC)`,
      `  ${e.energy.counted}`,
    );
  }
  for (const site of e.energy?.perSite ?? []) {
    lines.push(`  ${site.site.padEnd(9)} mean |count| per value ${site.meanCount.toFixed(2)}, ${(site.acJoules * 1e6).toFixed(3)} µJ per token`);
  }
  for (const w of e.warnings) lines.push(`Warning: ${w}`);
  return lines.join('\n');
}
