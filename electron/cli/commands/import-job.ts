import type { Command } from 'commander';
import type { AppCore } from '../../core/app-core.js';

export function registerImportJobCommand(program: Command, core: () => AppCore): void {
  program
    .command('import-job <job-dir>')
    .description('Check the model a finished cluster job wrote and add it to the library (a child of the exported model)')
    .option('--json', 'print the library entry as JSON')
    .action(async (jobDir: string, o: { json?: boolean }) => {
      const entry = await core().call('cluster.importJob', { jobDir });
      if (o.json) return console.log(JSON.stringify(entry, null, 2));
      console.log(`Added "${entry.name}" (${entry.path}) to the library, stage ${entry.stage}. Next: fas calibrate ${entry.path} --data <text> --out <dir>`);
    });
}
