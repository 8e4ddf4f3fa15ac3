import { Option, type Command } from 'commander';
import type { AppCore } from '../../core/app-core.js';
import { formatBytes } from '../../shared/format.js';
import { qcfsSettingsFrom, runSettingsFrom, withQcfsOptions, withRunSettingOptions, type RunSettingOptions } from './train.js';

interface ExportJobCliOptions extends RunSettingOptions {
  out: string;
  scope?: 'ffn' | 'all';
  json?: boolean;
}

export function registerExportJobCommand(program: Command, core: () => AppCore): void {
  withQcfsOptions(withRunSettingOptions(program.command('export-job <model-dir>')))
    .description('FAS stage 1 on a GPU cluster: write a job folder (data tokenised here, settings, a PyTorch script, launch.sh, README) to run with torchrun')
    .requiredOption('--out <dir>', 'the job folder to create')
    .addOption(
      new Option(
        '--scope <scope>',
        'what is quantised: "ffn", the FFN site (the paper\'s recipe), or "all", every input of a matrix product (fully spike-driven)',
      ).choices(['ffn', 'all']),
    )
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, o: ExportJobCliOptions) => {
      const settings = { ...runSettingsFrom(dir, o), ...qcfsSettingsFrom(o), jobDir: o.out, scope: o.scope };
      const defined = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
      const result = await core().call('cluster.exportJob', defined as never);
      if (o.json) return console.log(JSON.stringify(result, null, 2));
      const gib = (b: number | null) => (b === null ? '-' : formatBytes(b));
      const lines = [
        `Wrote the job ${result.jobDir}: ${result.steps} steps of ${result.tokensPerStep.toLocaleString('en')} tokens (${result.trainBlocks} training blocks, ${result.validationBlocks} validation blocks).`,
        ...result.notes,
        'Memory per GPU (estimate): ' + result.memory.map((m) => `${m.gpus} GPU${m.gpus > 1 ? 's' : ''}: DDP ${gib(m.ddp)}, FSDP ${gib(m.fsdp)}`).join('; '),
        `Copy it to the cluster and run ./launch.sh there (see its README.md); then: fas import-job ${result.jobDir}`,
      ];
      console.log(lines.join('\n'));
    });
}
