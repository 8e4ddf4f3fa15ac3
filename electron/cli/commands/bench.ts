import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { type Command, Option } from 'commander';
import { GPT2_124M, benchModelDir, benchModelF16Dir } from '../../core/bench/bench-model.js';
import { benchDecodeF16VsF32, benchInference, benchInferenceLimits, inferenceReport } from '../../core/bench/bench-inference.js';
import { benchSpiking } from '../../core/bench/bench-spiking.js';
import { benchSpikingAll } from '../../core/bench/bench-spiking-all.js';
import { benchTraining, trainingReport } from '../../core/bench/bench-training.js';
import { loadNative } from '../../../native/index.js';

const SECTIONS = {
  inference: benchInference,
  // The same weights stored as F16 (the folder is written by the parent before the sections run).
  'inference-f16': async () => benchInference(await benchModelF16Dir()),
  'decode-f16-vs-f32': async (dir: string) => benchDecodeF16VsF32(dir, await benchModelF16Dir()),
  'inference-limits': benchInferenceLimits,
  training: benchTraining,
  spiking: benchSpiking,
  spikingAll: benchSpikingAll,
} as const;
type Section = keyof typeof SECTIONS;

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('Measure the engine on a GPT-2-124M-shaped model with random weights: inference, training, spiking decode')
    .addOption(new Option('--section <name>', 'measure one section, in this process').choices(Object.keys(SECTIONS)))
    .option('--json', 'print JSON')
    .action(async (opts: { section?: Section; json?: boolean }) => {
      const dir = await benchModelDir();
      if (opts.section) return console.log(JSON.stringify(await SECTIONS[opts.section](dir)));
      await benchModelF16Dir();
      // Each section in its own process, so each peak memory is its own.
      const run = async (section: Section) => {
        const { stdout } = await promisify(execFile)(process.execPath, [fileURLToPath(new URL('../fas.js', import.meta.url)), 'bench', '--section', section], {
          maxBuffer: 1 << 20,
        });
        return JSON.parse(stdout) as unknown;
      };
      const native = loadNative();
      const limits = (await run('inference-limits')) as Awaited<ReturnType<typeof benchInferenceLimits>>;
      const report = {
        model: { ...GPT2_124M, vocabSize: 50257, weights: 'random F32' },
        threads: native.getThreads(),
        cpu: native.hardware().cpuModel,
        inference: inferenceReport(
          (await run('inference')) as Awaited<ReturnType<typeof benchInference>>,
          limits,
          (await run('inference-f16')) as Awaited<ReturnType<typeof benchInference>>,
          (await run('decode-f16-vs-f32')) as Awaited<ReturnType<typeof benchDecodeF16VsF32>>,
        ),
        training: trainingReport(
          (await run('training')) as Awaited<ReturnType<typeof benchTraining>>,
          limits.prefillFlopsPerToken,
          limits.fmaPeakFlopsPerSecond,
        ),
        spiking: (await run('spiking')) as Awaited<ReturnType<typeof benchSpiking>>,
        spikingAll: (await run('spikingAll')) as Awaited<ReturnType<typeof benchSpikingAll>>,
      };
      if (opts.json) return console.log(JSON.stringify(report, null, 2));
      const { inference: i, training: t, spiking: s, spikingAll: a } = report;
      const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
      console.log(
        [
          `Model      GPT-2-124M shape, random weights, ${report.threads} threads on ${report.cpu}`,
          `Prefill    ${i.prefillTokensPerSecond} tokens/s (batch 4 x 256); ${i.prefillFullLogitsTokensPerSecond} tokens/s with every position's logits`,
          `Scoring    ${i.scoreTokensPerSecond} tokens/s (the same tokens, each next token's log-probability: evaluation)`,
          `           ${(i.prefillFullLogitsShareOfFmaPeak * 100).toFixed(0)}% of the multiply-add peak (${(i.fmaPeakFlopsPerSecond / 1e9).toFixed(0)} GFLOP/s on ${report.threads} threads); training ${(t.shareOfFmaPeak * 100).toFixed(0)}%`,
          `Decode     ${i.decodeTokensPerSecond} tokens/s (greedy); peak memory ${mib(i.peakRssBytes)} = ${i.peakRssOverWeights} x the weights`,
          `           ${(i.decodeShareOfBandwidthLimit * 100).toFixed(0)}% of the ${i.decodeBandwidthLimitTokensPerSecond} tokens/s that the read bandwidth (${(i.readBandwidthBytesPerSecond / 1e9).toFixed(1)} GB/s) allows`,
          `F16        decode ${i.decodeF16TokensPerSecond} tokens/s = ${i.decodeF16OverF32} x the F32 decode beside it; peak memory ${mib(i.f16.peakRssBytes)} = ${i.f16.peakRssOverWeights} x its weights (${i.f16.peakRssAboveStartOverWeights} x above the process's start)`,
          `Training   ${t.tokensPerSecond} tokens/s (forward + backward + AdamW, batch 4 x 256); peak memory ${mib(t.peakRssBytes)}`,
          `Spiking    ANN decode ${s.annDecodeTokensPerSecond} tokens/s; ${s.snn.map((r) => `T=${r.timesteps}: ${r.decodeTokensPerSecond} tokens/s (${r.slowdownVsAnn}x slower, firing rate ${r.firingRate})`).join('; ')}`,
          ...s.downProjection.map(
            (d) =>
              `           down projection, ${d.rows} token(s) x T=${d.timesteps} at rate ${d.firingRate}: event-driven ${d.eventMs} ms, dense ${d.denseMs} ms`,
          ),
          `Every layer spiking: ANN decode ${a.annDecodeTokensPerSecond} tokens/s; ${a.snn.map((r) => `T=${r.timesteps}: ${r.decodeTokensPerSecond} tokens/s (${r.slowdownVsAnn}x slower, ${r.slowdownRange.join(' to ')}x over ${a.rounds} rounds, ${r.cpuTimeVsAnn}x the CPU time; ${r.energyVsAnn}x the ANN's energy)`).join('; ')}`,
        ].join('\n'),
      );
    });
}
