import type { Command } from 'commander';
import { loadModel } from '../../core/inference/loaded-model.js';
import { positiveInt } from '../options.js';

export function registerSpikesCommand(program: Command): void {
  program
    .command('spikes <model-dir>')
    .description('Run a converted model as a spiking model on a text: firing rate per layer, operations per token and energy')
    .requiredOption('--text <text>', 'text to run')
    .option('--T <n>', "timesteps (default: the folder's T)", positiveInt)
    .option('--per-neuron', "also give every neuron's firing rate (JSON only)")
    .option('--json', 'print JSON')
    .action(async (dir: string, o: { text: string; T?: number; perNeuron?: boolean; json?: boolean }) => {
      const model = await loadModel(dir);
      if (!model.spiking) throw new Error(`${model.folder.dir} is not a converted model (it has no spiking_config.json).`);
      const ids = model.tokenizer.encode(o.text).slice(0, model.folder.spec.maxPositions);
      if (ids.length === 0) throw new Error('The text has no tokens.');
      const timesteps = o.T ?? model.spiking.T;
      const { stats } = await model.engine.forwardWithStats(Int32Array.from(ids), 1, ids.length, { mode: 'snn', timesteps, neuronRates: o.perNeuron });
      model.engine.dispose();
      const report = {
        timesteps,
        tokens: stats.tokens,
        firingRates: stats.firingRates,
        ...(o.perNeuron ? { neuronFiringRates: stats.neuronFiringRates?.map((r) => Array.from(r)) } : {}),
        macsPerToken: stats.macsPerToken,
        acsPerToken: stats.acsPerToken,
        annMacsPerToken: stats.annMacsPerToken,
        energyPerToken: stats.energyPerToken,
        downProjection: stats.downProjection,
        backend: stats.backend,
        counted: stats.counted,
      };
      if (o.json) return console.log(JSON.stringify(report, null, 2));
      const uj = (pj: number) => `${(pj / 1e6).toFixed(3)} µJ`;
      const saving = stats.energyPerToken.saving;
      console.log(
        [
          `${stats.tokens} tokens at T = ${timesteps}`,
          `Firing rate per layer  ${stats.firingRates.map((r) => r.toFixed(3)).join(', ')}`,
          `Per token              ${stats.macsPerToken.toLocaleString('en')} MACs + ${stats.acsPerToken.toLocaleString('en')} ACs (ANN: ${stats.annMacsPerToken.toLocaleString('en')} MACs)`,
          `Energy per token       ${uj(stats.energyPerToken.picojoules)}, ANN ${uj(stats.energyPerToken.annPicojoules)}: ${saving >= 0 ? `${(100 * saving).toFixed(1)}% less` : `${(-100 * saving).toFixed(1)}% more`} than the ANN`,
          `Counted                ${stats.counted}`,
        ].join('\n'),
      );
    });
}
