// Spiking decode of the fully spike-driven scope (fas-method.md section 9) against the ANN on the
// benchmark model: thresholds per channel at the 99.9th percentile of |x| of every site on the
// prompt (activation statistics, no fine-tuning), then tokens/s at T = 4 and 8 with the energy
// per token and the mean |count| per value of every site, as counted by InferenceStats.
// The ANN and the spiking decodes take turns, round after round, and the slowdown is the median over
// rounds of each round's ratio: on a machine shared with other work the load drifts from second to
// second, and decodes measured side by side see the same load. The same ratio of the process's CPU
// time per token is given too: it counts the work done, whatever share of the cores the process got.
import { loadNative, type InferenceMode, type InferenceStats } from '../../../native/index.js';
import { openModelFolder } from '../model/folder.js';
import { round } from './round.js';

export interface SpikingAllBench {
  /** Median over the rounds. */
  annDecodeTokensPerSecond: number;
  rounds: number;
  snn: Array<{
    timesteps: number;
    /** Median over the rounds. */
    decodeTokensPerSecond: number;
    /** Median over the rounds of the ANN's tokens/s over this decode's, each pair measured in the same round. */
    slowdownVsAnn: number;
    /** The smallest and largest of the rounds' slowdowns. */
    slowdownRange: [number, number];
    /** Median over the rounds of this decode's CPU time per token (every thread of the process) over the ANN's. */
    cpuTimeVsAnn: number;
    /** Energy per token of this decode against the ANN's (picojoules; 1 - ratio is the saving). */
    energyVsAnn: number;
    /** Per site: mean |count| per value (firing rate x T). */
    meanCount: Record<string, number>;
    /** Products from counts run event-driven or dense (the cost model's choice), per site and pass. */
    products: { event: number; dense: number };
  }>;
}

const ROUNDS = 5;
const TOKENS = 16;
const TIMESTEPS = [4, 8] as const;

export async function benchSpikingAll(dir: string): Promise<SpikingAllBench> {
  const folder = await openModelFolder(dir);
  const { vocabSize } = folder.spec;
  const native = loadNative();
  const prompt = Int32Array.from({ length: 32 }, (_, i) => (i * 7919) % vocabSize);
  const ann = await native.loadModel(folder.spec);
  const thresholds = await ann.siteThresholds(prompt, 1, prompt.length, 0.999);
  const model = await native.loadModel(folder.spec, { spiking: { scope: 'all', levels: 8, signed: false, ...thresholds } });
  const decode = async (mode: InferenceMode, timesteps?: number): Promise<Decode> => {
    const session = (mode === 'ann' ? ann : model).createSession({ mode, ...(timesteps ? { timesteps } : {}) });
    await session.eval(prompt);
    const start = performance.now();
    const cpu = process.cpuUsage();
    const result = await session.generate({ promptIds: [], maxTokens: TOKENS, temperature: 0 }, () => undefined);
    const { user, system } = process.cpuUsage(cpu);
    return { tokensPerSecond: TOKENS / ((performance.now() - start) / 1000), cpuPerToken: (user + system) / TOKENS, stats: result.stats };
  };
  await decode('ann'); // warm-up: the weights paged in, the threads started
  const annRates: number[] = [];
  const runs = TIMESTEPS.map(() => ({ rates: [] as number[], ratios: [] as number[], cpuRatios: [] as number[], stats: null as InferenceStats | null }));
  for (let r = 0; r < ROUNDS; r++) {
    const a = await decode('ann');
    annRates.push(a.tokensPerSecond);
    for (const [i, t] of TIMESTEPS.entries()) {
      const r = await decode('snn', t);
      runs[i]!.rates.push(r.tokensPerSecond);
      runs[i]!.ratios.push(a.tokensPerSecond / r.tokensPerSecond);
      runs[i]!.cpuRatios.push(r.cpuPerToken / a.cpuPerToken);
      runs[i]!.stats = r.stats;
    }
  }
  ann.dispose();
  model.dispose();
  const snn: SpikingAllBench['snn'] = TIMESTEPS.map((t, i) => {
    const { rates, ratios, cpuRatios, stats } = runs[i]!;
    return {
      timesteps: t,
      decodeTokensPerSecond: round(median(rates), 1),
      slowdownVsAnn: round(median(ratios), 2),
      slowdownRange: [round(Math.min(...ratios), 2), round(Math.max(...ratios), 2)],
      cpuTimeVsAnn: round(median(cpuRatios), 2),
      energyVsAnn: round(stats!.energyPerToken.picojoules / stats!.energyPerToken.annPicojoules, 3),
      meanCount: Object.fromEntries(stats!.sites.map((s) => [s.site, round(s.firingRate * t, 2)])),
      products: { event: stats!.downProjection.event, dense: stats!.downProjection.dense },
    };
  });
  return { annDecodeTokensPerSecond: round(median(annRates), 1), rounds: ROUNDS, snn };
}

interface Decode {
  tokensPerSecond: number;
  /** Microseconds of CPU time (user + system, every thread) per token. */
  cpuPerToken: number;
  stats: InferenceStats;
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
