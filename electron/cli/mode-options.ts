import { type Command, Option } from 'commander';
import type { InferenceMode, RunModeOptions } from '../../native/index.js';
import type { LoadedModel } from '../core/inference/loaded-model.js';
import { positiveInt } from './options.js';

/** --mode ann|qcfs|snn and --T, shared by the commands that run a converted model. */
export function withModeOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--mode <mode>', 'ann: original activation; qcfs: QCFS (stage 1); snn: the spiking model (converted models only)').choices([
        'ann',
        'qcfs',
        'snn',
      ]),
    )
    .option('--T <n>', "timesteps of the spiking model (default: the folder's T)", positiveInt);
}

/** The run options for a loaded model, refusing modes it cannot run in plain words. */
export function runMode(model: LoadedModel, o: { mode?: InferenceMode; T?: number }): RunModeOptions {
  const mode = o.mode ?? (o.T !== undefined ? 'snn' : 'ann');
  if (mode !== 'ann' && !model.spiking) {
    throw new Error(`${model.folder.dir} is not a converted model (it has no spiking_config.json), so it runs only as the ANN.`);
  }
  return mode === 'snn' ? { mode, timesteps: o.T ?? model.spiking!.T } : { mode };
}
