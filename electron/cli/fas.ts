#!/usr/bin/env node
// `fas`: the headless command line over the same application core as the desktop app.
import { Command, CommanderError } from 'commander';
import { AppCore } from '../core/app-core.js';
import { builtInModels } from '../core/demo/demo-model.js';
import { APP_VERSION } from '../core/app-info.js';
import { registerBenchCommand } from './commands/bench.js';
import { registerCalibrateCommand } from './commands/calibrate.js';
import { registerChatCommand } from './commands/chat.js';
import { registerConvertCommand } from './commands/convert.js';
import { registerExportJobCommand } from './commands/export-job.js';
import { registerImportJobCommand } from './commands/import-job.js';
import { registerEvalCommand } from './commands/eval.js';
import { registerGenerateCommand } from './commands/generate.js';
import { registerHardwareCommand } from './commands/hardware.js';
import { registerInfoCommand } from './commands/info.js';
import { registerInitCommand } from './commands/init.js';
import { registerLogitsCommand } from './commands/logits.js';
import { registerSpikesCommand } from './commands/spikes.js';
import { registerTrainCommands } from './commands/train.js';
import { registerServeCommand } from './commands/serve.js';

export function buildProgram(core: () => AppCore): Command {
  const program = new Command('fas')
    .description('Convert a pretrained LLM into a spiking LLM (FAS) and run it, offline.')
    .version(APP_VERSION, '-v, --version')
    .showHelpAfterError('(run "fas --help" for usage)')
    .showSuggestionAfterError();
  registerHardwareCommand(program, core);
  registerInfoCommand(program);
  registerInitCommand(program);
  registerGenerateCommand(program);
  registerChatCommand(program);
  registerLogitsCommand(program);
  registerTrainCommands(program);
  registerCalibrateCommand(program);
  registerEvalCommand(program);
  registerConvertCommand(program);
  registerExportJobCommand(program, core);
  registerImportJobCommand(program, core);
  registerSpikesCommand(program);
  registerBenchCommand(program);
  registerServeCommand(program);
  return program;
}

async function main(): Promise<void> {
  let core: AppCore | undefined;
  const program = buildProgram(() => (core ??= new AppCore({ builtInModels: builtInModels() })));
  program.exitOverride();
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode);
    console.error(`fas: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}

await main();
