// Spiking decode of the fully spike-driven scope (fas-method.md section 9) against the ANN on the
// benchmark model: thresholds per channel at the 99.9th percentile of |x| of every site on the
// prompt (activation statistics, no fine-tuning), then tokens/s at T = 4 and 8 with the energy
// per token and the mean |count| per value of every site, as counted by InferenceStats.
import { loadNative, type InferenceMode, type InferenceStats } from '../../../native/index.js';
import { openModelFolder } from '../model/folder.js';

export interface SpikingAllBench {
  annDecodeTokensPerSecond: number;
  snn: Array<{
    timesteps: number;
    decodeTokensPerSecond: number;
    slowdownVsAnn: number;
    /** Energy per token of this decode against the ANN's (picojoules; 1 - ratio is the saving). */
    energyVsAnn: number;
    /** Per site: mean |count| per value (firing rate x T). */
    meanCount: Record<string, number>;
    /** Products from counts run event-driven or dense (the cost model's choice), per site and pass. */
    products: { event: number; dense: number };
  }>;
}

export async function benchSpikingAll(dir: string): Promise<SpikingAllBench> {
  const folder = await openModelFolder(dir);
  const { vocabSize } = folder.spec;
  const native = loadNative();
  const prompt = Int32Array.from({ length: 32 }, (_, i) => (i * 7919) % vocabSize);
  const ann = await native.loadModel(folder.spec);
  const thresholds = await ann.siteThresholds(prompt, 1, prompt.length, 0.999);
  const model = await native.loadModel(folder.spec, { spiking: { scope: 'all', levels: 8, signed: false, ...thresholds } });
  const decode = async (mode: InferenceMode, timesteps?: number): Promise<{ tokensPerSecond: number; stats: InferenceStats }> => {
    const session = (mode === 'ann' ? ann : model).createSession({ mode, ...(timesteps ? { timesteps } : {}) });
    await session.eval(prompt);
    const tokens = 16;
    const start = performance.now();
    const result = await session.generate({ promptIds: [], maxTokens: tokens, temperature: 0 }, () => undefined);
    return { tokensPerSecond: tokens / ((performance.now() - start) / 1000), stats: result.stats };
  };
  const annRun = await decode('ann');
  const snn: SpikingAllBench['snn'] = [];
  for (const t of [4, 8]) {
    const r = await decode('snn', t);
    snn.push({
      timesteps: t,
      decodeTokensPerSecond: round(r.tokensPerSecond, 10),
      slowdownVsAnn: round(annRun.tokensPerSecond / r.tokensPerSecond, 100),
      energyVsAnn: round(r.stats.energyPerToken.picojoules / r.stats.energyPerToken.annPicojoules, 1000),
      meanCount: Object.fromEntries(r.stats.sites.map((s) => [s.site, round(s.firingRate * t, 100)])),
      products: { event: r.stats.downProjection.event, dense: r.stats.downProjection.dense },
    });
  }
  ann.dispose();
  model.dispose();
  return { annDecodeTokensPerSecond: round(annRun.tokensPerSecond, 10), snn };
}

function round(x: number, per: number): number {
  return Math.round(x * per) / per;
}
