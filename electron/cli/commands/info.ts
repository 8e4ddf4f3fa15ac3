import type { Command } from 'commander';
import { formatBytes } from '../../shared/format.js';
import { openModelFolder } from '../../core/model/folder.js';
import { modelStage, readSpikingConfig, spikingInfo } from '../../core/spiking/spiking-config.js';

export function registerInfoCommand(program: Command): void {
  program
    .command('info <model-dir>')
    .description('Check a model folder and describe it: architecture, size, memory needed, FAS stage')
    .option('--json', 'print JSON')
    .action(async (dir: string, opts: { json?: boolean }) => {
      const folder = await openModelFolder(dir);
      const spiking = await readSpikingConfig(folder.dir);
      const info = { dir: folder.dir, ...folder.summary, stage: modelStage(spiking), spiking: spikingInfo(spiking), warnings: folder.warnings };
      if (opts.json) return console.log(JSON.stringify(info, null, 2));
      const s = folder.summary;
      const stage = { ann: 'original (ANN)', qcfs: 'fine-tuned with QCFS (FAS stage 1)', calibrated: 'spiking, calibrated (FAS stage 2)' }[info.stage];
      console.log(
        [
          `Model         ${folder.dir}`,
          `Architecture  ${s.architecture} (${s.modelType}), ${s.layers} layers, hidden size ${s.hiddenSize}`,
          `Parameters    ${(s.parameterCount / 1e6).toFixed(2)} M, stored as ${s.dtypes.join('/')} (${formatBytes(s.weightBytes)})`,
          `Vocabulary    ${s.vocabSize} tokens, context ${s.maxPositions}`,
          `Memory        about ${formatBytes(s.estimatedRunBytes)} to run`,
          `Stage         ${stage}${info.spiking ? ` (${info.spiking.scope === 'all' ? 'every layer spiking' : 'spikes at the FFN site'}, L=${info.spiking.levels}, T=${info.spiking.timesteps}, calibration ${info.spiking.calibration})` : ''}`,
          ...folder.warnings.map((w) => `Warning       ${w}`),
        ].join('\n'),
      );
    });
}
