import type { Command } from 'commander';
import { GPT2_124M, benchModelDir } from '../../core/bench/bench-model.js';
import { benchInference } from '../../core/bench/bench-inference.js';
import { loadNative } from '../../../native/index.js';

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('Measure the engine on a GPT-2-124M-shaped model with random weights (speed and memory)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const dir = await benchModelDir();
      const native = loadNative();
      const report = {
        model: { ...GPT2_124M, vocabSize: 50257, weights: 'random F32' },
        threads: native.getThreads(),
        cpu: native.hardware().cpuModel,
        inference: await benchInference(dir),
      };
      if (opts.json) return console.log(JSON.stringify(report, null, 2));
      const i = report.inference;
      console.log(
        [
          `Model      GPT-2-124M shape, random weights, ${report.threads} threads on ${report.cpu}`,
          `Prefill    ${i.prefillTokensPerSecond} tokens/s (batch 4 x 256)`,
          `Decode     ${i.decodeTokensPerSecond} tokens/s (greedy)`,
          `Memory     peak ${(i.peakRssBytes / 2 ** 20).toFixed(0)} MiB = ${i.peakRssOverWeights} x the weights`,
        ].join('\n'),
      );
    });
}
