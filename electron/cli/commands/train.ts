import { type Command, Option } from 'commander';
import { finetuneJob } from '../../core/jobs/kinds/finetune.js';
import { trainJob } from '../../core/jobs/kinds/train.js';
import type { TrainingResult } from '../../api/contract.js';
import { finetuneSettings, trainSettings } from '../../core/training/settings.js';
import { fraction, nonNegativeNumber, positiveInt } from '../options.js';
import { DEFAULT_BLOCK_SIZE } from '../../shared/model-defaults.js';
import { runJobInTerminal } from '../run-job.js';

export interface RunSettingOptions {
  data: string;
  steps?: number;
  lr?: number;
  batch?: number;
  block?: number;
  gradAccum?: number;
  warmup?: number;
  decay?: 'linear' | 'cosine' | 'constant';
  weightDecay?: number;
  clip?: number;
  valEvery?: number;
  valFraction?: number;
  saveEvery?: number;
  seed?: number;
  maxDataBytes?: number;
  L?: number;
  lambda?: number;
  thresholdLr?: number;
  T?: number;
}

interface TrainCliOptions extends RunSettingOptions {
  out: string;
  scope?: 'ffn' | 'all';
  resume?: boolean;
  overwrite?: boolean;
  json?: boolean;
}

/** The settings of a training run (everything but where it writes), shared by train, finetune and export-job; defaults come from the settings schemas, so they are shown, not repeated. */
export function withRunSettingOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--data <path>', 'training text: a .txt file, a folder of .txt/.md files, or .jsonl ({"text"} or {"prompt","completion"})')
    .option('--steps <n>', 'optimizer steps', positiveInt)
    .option('--lr <x>', 'learning rate of the weights', nonNegativeNumber)
    .option('--batch <n>', 'sequences per step', positiveInt)
    .option('--block <n>', `tokens per sequence (default ${DEFAULT_BLOCK_SIZE}, at most the model's context)`, positiveInt)
    .option('--grad-accum <n>', 'micro-batches per step', positiveInt)
    .option('--warmup <n>', 'warm-up steps', (v) => Math.floor(nonNegativeNumber(v)))
    .addOption(new Option('--decay <schedule>', 'learning-rate decay after warm-up').choices(['linear', 'cosine', 'constant']))
    .option('--weight-decay <x>', 'AdamW weight decay', nonNegativeNumber)
    .option('--clip <x>', 'gradient-norm clipping (0 = off)', nonNegativeNumber)
    .option('--val-every <n>', 'validate every n steps', positiveInt)
    .option('--val-fraction <x>', 'share of the data held out for validation', fraction)
    .option('--save-every <n>', 'checkpoint every n steps', positiveInt)
    .option('--seed <n>', 'seed for data order and split', (v) => Math.floor(nonNegativeNumber(v)))
    .option('--max-data-bytes <n>', 'read at most this many bytes of data', positiveInt);
}

/** FAS stage 1's own settings: QCFS and the thresholds. */
export function withQcfsOptions(cmd: Command): Command {
  return cmd
    .option('--L <n>', 'QCFS quantisation levels', positiveInt)
    .option('--lambda <x>', 'initial QCFS threshold of every layer (scope all starts every threshold from activation statistics)', nonNegativeNumber)
    .option('--threshold-lr <x>', 'learning rate of the thresholds', nonNegativeNumber)
    .option('--T <n>', 'timesteps recorded for the spiking model', positiveInt);
}

function withTrainingOptions(cmd: Command): Command {
  return withRunSettingOptions(cmd)
    .requiredOption('--out <dir>', 'folder to write the model to (checkpoints go inside it while training)')
    .option('--resume', 'continue from the checkpoint in --out')
    .option('--overwrite', 'replace what is in --out')
    .option('--json', 'print the result as JSON');
}

export function runSettingsFrom(dir: string, o: RunSettingOptions) {
  return {
    modelDir: dir,
    dataPath: o.data,
    steps: o.steps,
    lr: o.lr,
    batchSize: o.batch,
    blockSize: o.block,
    gradAccum: o.gradAccum,
    warmupSteps: o.warmup,
    decay: o.decay,
    weightDecay: o.weightDecay,
    clipNorm: o.clip,
    valEvery: o.valEvery,
    validationFraction: o.valFraction,
    saveEvery: o.saveEvery,
    seed: o.seed,
    maxDataBytes: o.maxDataBytes,
  };
}

export function qcfsSettingsFrom(o: RunSettingOptions) {
  const qcfs = o.L !== undefined || o.lambda !== undefined ? { levels: o.L, initialLambda: o.lambda } : undefined;
  return { qcfs, thresholdLr: o.thresholdLr, timesteps: o.T };
}

function settingsFrom(dir: string, o: TrainCliOptions) {
  return { ...runSettingsFrom(dir, o), outDir: o.out, resume: o.resume ?? false, overwrite: o.overwrite ?? false };
}

function report(result: TrainingResult, json: boolean | undefined): void {
  if (json) return console.log(JSON.stringify(result, null, 2));
  const ppl = (x: number | null) => (x === null ? 'n/a' : x.toFixed(2));
  const lines = [`Wrote ${result.outDir} after ${result.steps} steps (${result.tokensSeen.toLocaleString('en')} tokens).`];
  if (result.annPerplexityBefore !== null) lines.push(`Validation perplexity, original ANN:           ${ppl(result.annPerplexityBefore)}`);
  if (result.perplexityBefore !== null) lines.push(`Validation perplexity before training:       ${ppl(result.perplexityBefore)}`);
  lines.push(`Validation perplexity after training:        ${ppl(result.perplexityAfter)}`);
  if (result.finalLambdas) lines.push(`QCFS thresholds (lambda per layer): ${result.finalLambdas.map((l) => l.toFixed(3)).join(', ')}`);
  console.log(lines.join('\n'));
}

export function registerTrainCommands(program: Command): void {
  withTrainingOptions(
    program.command('train <model-dir>').description('Train or fine-tune every parameter of a model on text (e.g. pretrain one made with "fas init")'),
  ).action(async (dir: string, o: TrainCliOptions) => {
    const settings = trainSettings.parse(settingsFrom(dir, o));
    report(await runJobInTerminal(trainJob, settings), o.json);
  });

  withQcfsOptions(
    withTrainingOptions(
      program.command('finetune <model-dir>').description('FAS stage 1: replace the FFN activation by QCFS and fine-tune; writes a spiking model folder'),
    ),
  )
    .addOption(
      new Option(
        '--scope <scope>',
        'what spikes: "ffn", the FFN site only (the FAS paper\'s recipe), or "all", every layer (fully spike-driven, lowest energy)',
      ).choices(['ffn', 'all']),
    )
    .action(async (dir: string, o: TrainCliOptions) => {
      const settings = finetuneSettings.parse({ ...settingsFrom(dir, o), ...qcfsSettingsFrom(o), scope: o.scope });
      report(await runJobInTerminal(finetuneJob, settings), o.json);
    });
}
