import type { Command } from 'commander';
import { loadModel } from '../../core/inference/loaded-model.js';
import { streamReply } from '../../core/inference/stream-reply.js';
import type { InferenceMode } from '../../../native/index.js';
import { runMode, withModeOptions } from '../mode-options.js';
import { nonNegativeNumber, positiveInt } from '../options.js';

interface GenerateOptions {
  prompt: string;
  maxTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  repetitionPenalty: number;
  seed: number;
  stop: string[];
  stats?: boolean;
  snn?: boolean;
  mode?: InferenceMode;
  T?: number;
}

const DEFAULT_SAMPLING = { maxTokens: 128, temperature: 0.8, topK: 40, topP: 0.95, repetitionPenalty: 1.1, seed: 0 };

export function registerGenerateCommand(program: Command): void {
  withModeOptions(program.command('generate <model-dir>'))
    .option('--snn', 'generate with the spiking model (same as --mode snn)')
    .description('Continue a prompt with the model, streaming the text as it is generated')
    .requiredOption('--prompt <text>', 'text to continue')
    .option('--max-tokens <n>', 'most tokens to generate', positiveInt, DEFAULT_SAMPLING.maxTokens)
    .option('--temperature <x>', '0 = greedy (always the most likely token)', nonNegativeNumber, DEFAULT_SAMPLING.temperature)
    .option('--top-k <k>', 'sample among the k most likely tokens (0 = all)', (v) => Math.floor(nonNegativeNumber(v)), DEFAULT_SAMPLING.topK)
    .option('--top-p <p>', 'sample among the most likely tokens whose probabilities add up to p', nonNegativeNumber, DEFAULT_SAMPLING.topP)
    .option('--repetition-penalty <r>', '1 = off; above 1 discourages repeating tokens', nonNegativeNumber, DEFAULT_SAMPLING.repetitionPenalty)
    .option('--seed <n>', 'random seed: the same seed gives the same text', (v) => Math.floor(nonNegativeNumber(v)), DEFAULT_SAMPLING.seed)
    .option('--stop <text...>', 'stop before any of these strings')
    .option('--stats', 'print tokens/s and the stop reason to stderr')
    .action(async (dir: string, o: GenerateOptions) => {
      const model = await loadModel(dir);
      const session = model.engine.createSession(runMode(model, { mode: o.snn ? 'snn' : o.mode, T: o.T }));
      const controller = new AbortController();
      process.once('SIGINT', () => controller.abort());
      const promptIds = model.tokenizer.encode(o.prompt);
      const result = await streamReply(
        session,
        model.tokenizer,
        promptIds,
        {
          maxTokens: o.maxTokens,
          temperature: o.temperature,
          topK: o.topK,
          topP: o.topP,
          repetitionPenalty: o.repetitionPenalty,
          seed: o.seed,
          stopStrings: o.stop ?? [],
          stopIds: [],
        },
        (text) => process.stdout.write(text),
        controller.signal,
      );
      process.stdout.write('\n');
      if (o.stats) console.error(`${result.ids.length} tokens, ${result.tokensPerSecond.toFixed(1)} tokens/s, stopped: ${result.stopReason}`);
      const spikes = result.stats;
      if (o.stats && spikes?.mode === 'snn') {
        const rate = spikes.firingRates.reduce((a, b) => a + b, 0) / spikes.firingRates.length;
        console.error(
          `T = ${spikes.timesteps}: firing rate ${rate.toFixed(3)}, ${(spikes.energyPerToken.picojoules / 1e6).toFixed(3)} µJ per token (ANN ${(spikes.energyPerToken.annPicojoules / 1e6).toFixed(3)} µJ)`,
        );
      }
      model.engine.dispose();
    });
}
