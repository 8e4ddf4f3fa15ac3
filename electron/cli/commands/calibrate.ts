// `fas calibrate`: FAS stage 2 on a stage-1 folder; prints the per-layer report.
import { type Command, Option } from 'commander';
import { formatReport } from '../../core/calibration/report.js';
import { calibrateSettings } from '../../core/calibration/settings.js';
import { calibrateJob } from '../../core/jobs/kinds/calibrate.js';
import { fraction, nonNegativeNumber, positiveInt } from '../options.js';
import type { CalibrationRecipe } from '../../shared/calibration-recipes.js';
import { recipeOption, refuseFlagsPaperSets } from '../recipe-option.js';
import { DEFAULT_BLOCK_SIZE } from '../../shared/model-defaults.js';
import { runJobInTerminal } from '../run-job.js';

interface CalibrateCliOptions {
  data?: string;
  out: string;
  recipe?: CalibrationRecipe;
  T?: number;
  level?: 'layer' | 'neuron';
  samples?: number;
  block?: number;
  batch?: number;
  epochs?: number;
  lr?: number;
  jointEpochs?: number;
  jointLr?: number;
  alignWeight?: number;
  seed?: number;
  maxPositions?: number;
  valFraction?: number;
  evalBlocks?: number;
  maxDataBytes?: number;
  resume?: boolean;
  overwrite?: boolean;
  json?: boolean;
}

export function registerCalibrateCommand(program: Command): void {
  program
    .command('calibrate <model-dir>')
    .description("FAS stage 2: calibrate a stage-1 model's spiking neurons against its QCFS model; writes a calibrated spiking folder")
    .option('--data <path>', 'calibration text: a .txt file, a folder of .txt/.md files, or .jsonl (a model spiking at every layer needs none)')
    .requiredOption('--out <dir>', 'folder to write the calibrated model to (the checkpoint goes inside it meanwhile)')
    .addOption(recipeOption())
    .option('--T <n>', 'timesteps of the spiking model', positiveInt)
    .addOption(new Option('--level <level>', 'per-layer values only, or per-neuron values after them').choices(['layer', 'neuron']))
    .option('--samples <n>', 'calibration sequences', positiveInt)
    .option('--block <n>', `tokens per sequence (default ${DEFAULT_BLOCK_SIZE}, at most the model's context)`, positiveInt)
    .option('--batch <n>', 'sequences per batch (and per Adam step)', positiveInt)
    .option('--epochs <n>', 'fine-pass epochs per layer', positiveInt)
    .option('--lr <x>', 'fine-pass learning rate', nonNegativeNumber)
    .option('--joint-epochs <n>', 'epochs of the joint pass (every layer on the KL of the logits); 0 skips it', (v) => Math.floor(nonNegativeNumber(v)))
    .option('--joint-lr <x>', 'joint-pass learning rate', nonNegativeNumber)
    .option('--align-weight <x>', 'joint pass: weight of the align losses next to the KL', nonNegativeNumber)
    .option('--seed <n>', 'seed for the data split and the choice of sequences', (v) => Math.floor(nonNegativeNumber(v)))
    .option('--max-positions <n>', 'per-(position, neuron) values for the first n positions', positiveInt)
    .option('--val-fraction <x>', 'share of the data held out for perplexity and KL', fraction)
    .option('--eval-blocks <n>', 'most held-out sequences measured', positiveInt)
    .option('--max-data-bytes <n>', 'read at most this many bytes of data', positiveInt)
    .option('--resume', 'continue from the checkpoint in --out')
    .option('--overwrite', 'replace what is in --out')
    .option('--json', 'print the report as JSON')
    .action(async (dir: string, o: CalibrateCliOptions) => {
      refuseFlagsPaperSets(o.recipe, o);
      const settings = calibrateSettings.parse({
        recipe: o.recipe,
        modelDir: dir,
        dataPath: o.data,
        outDir: o.out,
        timesteps: o.T,
        level: o.level,
        samples: o.samples,
        blockSize: o.block,
        batchSize: o.batch,
        epochs: o.epochs,
        lr: o.lr,
        jointEpochs: o.jointEpochs,
        jointLr: o.jointLr,
        alignWeight: o.alignWeight,
        seed: o.seed,
        maxPositions: o.maxPositions,
        validationFraction: o.valFraction,
        evalBlocks: o.evalBlocks,
        maxDataBytes: o.maxDataBytes,
        resume: o.resume ?? false,
        overwrite: o.overwrite ?? false,
      });
      const report = await runJobInTerminal(calibrateJob, settings);
      console.log(o.json ? JSON.stringify(report, null, 2) : formatReport(report));
    });
}
