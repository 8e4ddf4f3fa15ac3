import { type Command, Option } from 'commander';
import { createFreshModel, readTokenizerSource } from '../../core/model/fresh-model.js';
import { positiveInt } from '../options.js';

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('Create a new model with random weights (to pretrain it with "fas train")')
    .addOption(new Option('--arch <family>', 'architecture').choices(['gpt2', 'opt', 'llama']).makeOptionMandatory())
    .requiredOption('--layers <n>', 'transformer layers', positiveInt)
    .requiredOption('--d-model <n>', 'hidden size', positiveInt)
    .requiredOption('--heads <n>', 'attention heads', positiveInt)
    .option('--kv-heads <n>', 'key/value heads for grouped-query attention (llama)', positiveInt)
    .option('--d-ff <n>', 'feed-forward size (default 4 x d-model; llama 8/3 x d-model)', positiveInt)
    .option('--context <n>', 'longest sequence (positions)', positiveInt, 512)
    .requiredOption('--tokenizer <source>', '"gpt2", a tokenizer.json file, or a model folder to take it from')
    .requiredOption('--out <dir>', 'folder to write')
    .option('--seed <n>', 'random seed', positiveInt, 1)
    .action(
      async (o: {
        arch: 'gpt2' | 'opt' | 'llama';
        layers: number;
        dModel: number;
        heads: number;
        kvHeads?: number;
        dFf?: number;
        context: number;
        tokenizer: string;
        out: string;
        seed: number;
      }) => {
        const tokenizer = await readTokenizerSource(o.tokenizer);
        const config = await createFreshModel(o.out, tokenizer, {
          arch: o.arch,
          layers: o.layers,
          dModel: o.dModel,
          heads: o.heads,
          kvHeads: o.kvHeads,
          dFF: o.dFf,
          context: o.context,
          seed: o.seed,
        });
        console.log(`Created a ${o.arch} model (vocabulary ${String(config.vocab_size)}) in ${o.out}`);
      },
    );
}
