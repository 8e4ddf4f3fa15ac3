// Spiking decode against the ANN on the benchmark model, with every layer's QCFS threshold at 2
// (uncalibrated neurons: theta = lambda, v0 = theta / 2): tokens/s at T = 4 and 8, how the
// down projection ran, and the firing rate that decided it.
import { loadNative, type InferenceMode } from '../../../native/index.js';
import { openModelFolder } from '../model/folder.js';
import { round } from './round.js';

export interface SpikingBench {
  /** The down projection (ffn -> hidden) alone at the firing rate measured at T = 8: one token, and a 64-token prefill. */
  downProjection: Array<{ rows: number; timesteps: number; firingRate: number; eventMs: number; denseMs: number; costModelChooses: 'event' | 'dense' }>;
  annDecodeTokensPerSecond: number;
  snn: Array<{
    timesteps: number;
    decodeTokensPerSecond: number;
    slowdownVsAnn: number;
    firingRate: number;
    downProjection: { event: number; dense: number; gpu: number };
  }>;
}

export async function benchSpiking(dir: string): Promise<SpikingBench> {
  const folder = await openModelFolder(dir);
  const { numLayers, vocabSize } = folder.spec;
  const model = await loadNative().loadModel(folder.spec, { spiking: { levels: 8, signed: false, lambdas: new Float32Array(numLayers).fill(2) } });
  const prompt = Int32Array.from({ length: 32 }, (_, i) => (i * 7919) % vocabSize);
  const decode = async (mode: InferenceMode, timesteps?: number) => {
    const session = model.createSession({ mode, ...(timesteps ? { timesteps } : {}) });
    await session.eval(prompt);
    const tokens = 16;
    const start = performance.now();
    const result = await session.generate({ promptIds: [], maxTokens: tokens, temperature: 0 }, () => undefined);
    return { tokensPerSecond: tokens / ((performance.now() - start) / 1000), stats: result.stats };
  };
  const ann = await decode('ann');
  const snn = [];
  for (const t of [4, 8]) {
    const r = await decode('snn', t);
    const rates = r.stats.firingRates;
    snn.push({
      timesteps: t,
      decodeTokensPerSecond: round(r.tokensPerSecond),
      slowdownVsAnn: round(ann.tokensPerSecond / r.tokensPerSecond, 2),
      firingRate: round(rates.reduce((a, b) => a + b, 0) / rates.length, 3),
      downProjection: r.stats.downProjection,
    });
  }
  model.dispose();
  const rate = snn.at(-1)!.firingRate;
  const downProjection = [];
  for (const rows of [1, 64]) {
    const t = await loadNative().benchSpikeLinear({ inputs: folder.spec.ffnSize, outputs: folder.spec.hiddenSize, rows, timesteps: 8, firingRate: rate });
    downProjection.push({
      rows,
      timesteps: 8,
      firingRate: rate,
      eventMs: round(t.eventMs, 3),
      denseMs: round(t.denseMs, 3),
      costModelChooses: t.costModelChooses,
    });
  }
  return { downProjection, annDecodeTokensPerSecond: round(ann.tokensPerSecond), snn };
}
