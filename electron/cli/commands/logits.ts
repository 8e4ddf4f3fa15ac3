import type { Command } from 'commander';
import { loadModel } from '../../core/inference/loaded-model.js';
import type { InferenceMode } from '../../../native/index.js';
import { runMode, withModeOptions } from '../mode-options.js';
import { intList } from '../options.js';

export function registerLogitsCommand(program: Command): void {
  withModeOptions(program.command('logits <model-dir>'))
    .description('Print the logits of every position for given token ids (to compare with other implementations)')
    .requiredOption('--ids <ids>', 'comma-separated token ids, e.g. 1,2,3', intList)
    .option('--json', 'print {"logits": [[...], ...]}, one row per position (the only format)')
    .action(async (dir: string, o: { ids: number[]; mode?: InferenceMode; T?: number }) => {
      const model = await loadModel(dir);
      const vocab = model.folder.spec.vocabSize;
      const bad = o.ids.find((id) => id >= vocab);
      if (bad !== undefined) throw new Error(`Token id ${bad} is outside the vocabulary (0..${vocab - 1}).`);
      // In snn mode: the logits averaged over the T timesteps.
      const flat = await model.engine.forward(Int32Array.from(o.ids), 1, o.ids.length, runMode(model, o));
      const rows = o.ids.map((_, p) => Array.from(flat.subarray(p * vocab, (p + 1) * vocab)));
      console.log(JSON.stringify({ logits: rows }));
      model.engine.dispose();
    });
}
