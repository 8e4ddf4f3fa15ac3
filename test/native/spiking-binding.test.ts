// The spiking modes through the addon: tiny converted model folders (a tiny Hugging Face model plus
// spiking_config.json and spiking.safetensors) loaded by electron/core/inference/loaded-model.ts,
// then forward in the three modes, their statistics, and snn sessions that stream and abort.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { continuationScorer } from '../../electron/core/eval/continuation-scorer.js';
import { inferenceModes, loadModel, type LoadedModel } from '../../electron/core/inference/loaded-model.js';
import { writeSafetensors } from '../../electron/core/model/safetensors.js';
import { SPIKING_WEIGHTS_FILE, writeSpikingConfig } from '../../electron/core/spiking/spiking-config.js';
import { spikingTensors, type NeuronParams } from '../../electron/core/spiking/spiking-weights.js';
import { loadNative, type InferenceMode, type InferenceStats } from '../../native/index.js';
import { tempDir, TINY_VOCAB, writeTinyModel, type TinyVariant } from '../helpers/tiny-models.js';

/** Deterministic values in [lo, hi). */
function uniform(n: number, lo: number, hi: number, seed: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * state) / 4294967296;
  });
}

/** A converted folder: the tiny model, 2 layers, lambda near `lambda`, neurons of `shape` (null: uncalibrated). */
async function writeConverted(dir: string, variant: TinyVariant, lambda: number, shape: number[] | null): Promise<void> {
  await writeTinyModel(dir, variant);
  const signed = variant.startsWith('llama');
  const lambdas = uniform(2, 0.8 * lambda, 1.2 * lambda, 1);
  const neurons: NeuronParams[] | null =
    shape &&
    [0, 1].map((layer) => {
      const size = shape.reduce((a, b) => a * b, 1);
      const threshold = uniform(size, 0.5 * lambdas[layer]!, 1.5 * lambdas[layer]!, 10 + layer);
      const v0 = threshold.map((t, i) => t * uniform(size, 0, 1, 20 + layer)[i]!);
      return { threshold, v0, shape };
    });
  await writeSpikingConfig(dir, { L: 8, T: 4, neuron: 'if-soft-reset', signed, site: 'ffn_act', calibration: shape ? 'neuron' : 'none' });
  await writeSafetensors(join(dir, SPIKING_WEIGHTS_FILE), spikingTensors({ lambdas, neurons }));
}

function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

function maxRelativeDiff(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    norm = Math.max(norm, Math.abs(b[i]!));
  }
  return diff / norm;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** log softmax(row)[target] in double, from the row's largest value. */
function logSoftmaxAt(row: Float32Array, target: number): number {
  const top = Math.max(...row);
  return row[target]! - top - Math.log(sum([...row].map((logit) => Math.exp(logit - top))));
}

const FOLDERS = [
  { name: 'gpt2 (unsigned, per-neuron neurons)', variant: 'gpt2' as const, lambda: 1, shape: [64], hidden: 16, ffn: 64 },
  { name: 'llama (signed, per-position neurons)', variant: 'llama-gqa-tied' as const, lambda: 0.3, shape: [3, 24], hidden: 16, ffn: 24 },
  { name: 'gpt2 (uncalibrated)', variant: 'gpt2' as const, lambda: 1, shape: null, hidden: 16, ffn: 64 },
];

describe.each(FOLDERS)('spiking modes of a converted $name', ({ variant, lambda, shape, hidden, ffn }) => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let model: LoadedModel;
  const prompt = Int32Array.from([72, 101, 108, 108, 111, 32]);

  beforeAll(async () => {
    dir = await tempDir();
    await writeConverted(dir.path, variant, lambda, shape);
    model = await loadModel(dir.path);
  });

  afterAll(async () => {
    model?.engine.dispose();
    await dir?.cleanup();
  });

  it('loads the spiking parameters with the folder', () => {
    expect(model.spiking).toMatchObject({ L: 8, T: 4, signed: variant !== 'gpt2' });
    expect(inferenceModes(model)).toEqual(['ann', 'qcfs', 'snn']);
  });

  it('runs ann, qcfs and snn with logits of the same shape and consistent statistics', async () => {
    const ids = Int32Array.from([...prompt, ...prompt.slice().reverse()]);
    const batch = 2;
    const seqLen = prompt.length;
    const results = new Map<InferenceMode, { logits: Float32Array; stats: InferenceStats }>();
    for (const mode of ['ann', 'qcfs', 'snn'] as const) {
      const result = await model.engine.forwardWithStats(ids, batch, seqLen, { mode, neuronRates: true });
      expect(result.logits.length).toBe(batch * seqLen * TINY_VOCAB);
      expect(result.logits.every(Number.isFinite)).toBe(true);
      expect(result.stats).toMatchObject({ mode, tokens: batch * seqLen, backend: 'cpu', backendNote: '' });
      // The same logits as forward() without statistics.
      expect(await model.engine.forward(ids, batch, seqLen, { mode })).toEqual(result.logits);
      results.set(mode, result);
    }
    const ann = results.get('ann')!.stats;
    const qcfs = results.get('qcfs')!.stats;
    const snn = results.get('snn')!.stats;
    expect(maxRelativeDiff(results.get('snn')!.logits, results.get('ann')!.logits)).toBeGreaterThan(1e-4);

    for (const stats of [ann, qcfs]) {
      expect(stats).toMatchObject({ timesteps: 1, acsPerToken: 0, firingRates: [], spikes: [], neuronFiringRates: null });
      expect(stats.macsPerToken).toBe(stats.annMacsPerToken);
      expect(stats.energyPerToken.saving).toBe(0);
    }
    // snn at the folder's T = 4: firing rates per layer, ACs = spikes x fan-out (hidden size).
    expect(snn.timesteps).toBe(4);
    expect(snn.firingRates).toHaveLength(2);
    expect(snn.firingRates.every((rate) => rate > 0 && rate <= 1)).toBe(true);
    snn.spikes.forEach((spikes, layer) => expect(spikes).toBeCloseTo(snn.firingRates[layer]! * 4 * batch * seqLen * ffn, 6));
    expect(snn.acsPerToken * snn.tokens).toBeCloseTo(sum(snn.spikes) * hidden, 6);
    expect(snn.neuronFiringRates).toHaveLength(2);
    snn.neuronFiringRates!.forEach((rates, layer) => {
      expect(rates).toBeInstanceOf(Float32Array);
      expect(rates.length).toBe(ffn);
      expect(rates.every((r) => r >= 0 && r <= 1)).toBe(true);
      expect(sum([...rates]) / ffn).toBeCloseTo(snn.firingRates[layer]!, 5);
    });
    expect(snn.downProjection.event + snn.downProjection.dense).toBe(2);
    // Energy: 4.6 pJ per MAC, 0.9 per AC; the dense per-timestep ops make this tiny snn cost more.
    expect(snn.energyPerToken.picojoules).toBeCloseTo(snn.macsPerToken * 4.6 + snn.acsPerToken * 0.9, 3);
    expect(snn.energyPerToken.annPicojoules).toBeCloseTo(ann.macsPerToken * 4.6, 3);
    expect(snn.energyPerToken.saving).toBeCloseTo(1 - snn.energyPerToken.picojoules / snn.energyPerToken.annPicojoules, 9);
    expect(snn.energyPerToken.saving).toBeLessThan(0);
    expect(snn.counted).toMatch(/Not counted: biases, norms, softmax/);
  });

  it("scores each next token as the log-softmax of forward()'s logits at it, in every mode", async () => {
    // 50 sequences: in snn mode at T = 4 the engine runs them in groups (21 of these 6 tokens at a time).
    const batch = 50;
    const seqLen = prompt.length;
    const ids = Int32Array.from({ length: batch * seqLen }, (_, i) => prompt[(i * 7) % seqLen]! + (i % 5));
    const targets = Int32Array.from(ids, (id, i) => (id * 31 + i) % TINY_VOCAB);
    for (const mode of ['ann', 'qcfs', 'snn'] as const) {
      const logits = await model.engine.forward(ids, batch, seqLen, { mode });
      const scores = await model.engine.targetLogProbs(ids, batch, seqLen, targets, { mode });
      expect(scores).toBeInstanceOf(Float64Array);
      expect(scores.length).toBe(batch * seqLen);
      const differences = [...scores].map((score, i) => Math.abs(score - logSoftmaxAt(logits.subarray(i * TINY_VOCAB, (i + 1) * TINY_VOCAB), targets[i]!)));
      expect(Math.max(...differences)).toBeLessThan(1e-5);
    }
  });

  it("scores an item's choices after its context, run once in a session, as the whole sequences score them", async () => {
    const context = 'Call me Ishmael.';
    const choices = [' whale', ' sea', ' a long grey ship'];
    for (const mode of ['ann', 'qcfs', 'snn'] as const) {
      const scored = await continuationScorer(model.tokenizer, model.engine.createSession({ mode }), 64)(context, choices);
      const whole = await Promise.all(
        choices.map(async (choice) => {
          const contextIds = model.tokenizer.encode(context, { addSpecialTokens: false });
          const ids = [...contextIds, ...model.tokenizer.encode(choice, { addSpecialTokens: false })];
          const logProbs = await model.engine.targetLogProbs(Int32Array.from(ids.slice(0, -1)), 1, ids.length - 1, Int32Array.from(ids.slice(1)), { mode });
          return logProbs.subarray(contextIds.length - 1).reduce((sum, logProb) => sum + logProb, 0);
        }),
      );
      expect(Math.max(...scored.map((score, i) => Math.abs(score - whole[i]!)))).toBeLessThan(1e-4);
    }
  });

  it('truncates a session to a prefix whose next logits are those of the prefix alone', async () => {
    const session = model.engine.createSession({ mode: 'snn' });
    await session.eval(prompt);
    const scores = await session.score(Int32Array.of(9, 10), Int32Array.of(10, 11));
    expect(scores).toHaveLength(2);
    session.truncate(prompt.length);
    const afterTruncate = await session.eval(Int32Array.of(12));
    const fresh = model.engine.createSession({ mode: 'snn' });
    expect(maxRelativeDiff(afterTruncate, await fresh.eval(Int32Array.from([...prompt, 12])))).toBeLessThan(1e-5);
    await expect(session.score(Int32Array.of(1), Int32Array.of(TINY_VOCAB))).rejects.toThrow(`target 0 is ${TINY_VOCAB}, outside the vocabulary`);
    await expect(session.score(Int32Array.of(1, 2), Int32Array.of(1))).rejects.toThrow('targets has 1 entries, ids 2');
    // A refused score leaves the context as it was.
    expect(maxRelativeDiff(await session.eval(Int32Array.of(13)), await fresh.eval(Int32Array.of(13)))).toBeLessThan(1e-5);
  });

  it('refuses targets outside the vocabulary or of the wrong length, naming them', async () => {
    const targets = Int32Array.from(prompt);
    targets[2] = TINY_VOCAB;
    await expect(model.engine.targetLogProbs(prompt, 1, prompt.length, targets)).rejects.toThrow(
      `target 2 is ${TINY_VOCAB}, outside the vocabulary of ${TINY_VOCAB} tokens`,
    );
    await expect(model.engine.targetLogProbs(prompt, 1, prompt.length, prompt.subarray(1))).rejects.toThrow('targets has 5 entries, ids 6');
  });

  it('takes T per call, and lastOnly gives the last rows', async () => {
    const full = await model.engine.forward(prompt, 1, prompt.length, { mode: 'snn', timesteps: 2 });
    const last = await model.engine.forwardWithStats(prompt, 1, prompt.length, { mode: 'snn', timesteps: 2, lastOnly: true });
    expect(last.stats.timesteps).toBe(2);
    expect(maxRelativeDiff(last.logits, full.subarray((prompt.length - 1) * TINY_VOCAB))).toBeLessThan(1e-5);
    expect(maxRelativeDiff(full, await model.engine.forward(prompt, 1, prompt.length, { mode: 'snn' }))).toBeGreaterThan(1e-4);
  });

  it('generates in snn mode: the argmax of the snn forward, streamed, with the statistics of the run', async () => {
    const session = model.engine.createSession({ mode: 'snn' });
    expect(session.lastStats()).toBeNull();
    const streamed: number[] = [];
    const result = await session.generate({ promptIds: prompt, maxTokens: 5 }, (id) => streamed.push(id));
    expect(result.stopReason).toBe('length');
    expect(streamed).toEqual(result.tokens);
    const context = [...prompt];
    for (const token of result.tokens) {
      const logits = await model.engine.forward(Int32Array.from(context), 1, context.length, { mode: 'snn', lastOnly: true });
      expect(token).toBe(argmax(logits));
      context.push(token);
    }
    // The prompt, then every generated token but the last one, ran through the model.
    expect(result.stats).toMatchObject({ mode: 'snn', timesteps: 4, tokens: prompt.length + 4 });
    expect(session.lastStats()).toEqual(result.stats);
    const logits = await session.eval(Int32Array.from([65]));
    expect(logits.length).toBe(TINY_VOCAB);
    expect(session.lastStats()).toMatchObject({ tokens: 2 }); // the last generated token and the new one
  });

  it('aborts an snn generation and stays usable', async () => {
    const session = model.engine.createSession({ mode: 'snn', timesteps: 8 });
    const streamed: number[] = [];
    const result = await session.generate({ promptIds: prompt, maxTokens: 20 }, (id) => {
      streamed.push(id);
      if (streamed.length === 2) session.abort();
    });
    expect(result.stopReason).toBe('aborted');
    expect(result.tokens).toEqual(streamed);
    expect(result.tokens.length).toBeLessThan(20);
    session.reset();
    expect(session.lastStats()).toBeNull();
    expect((await session.eval(prompt)).length).toBe(TINY_VOCAB);
  });
});

describe('spiking parameters and backends', () => {
  const native = loadNative();
  let dir: { path: string; cleanup: () => Promise<void> };
  let plain: LoadedModel;

  beforeAll(async () => {
    dir = await tempDir();
    await writeTinyModel(join(dir.path, 'plain'), 'gpt2');
    await writeConverted(join(dir.path, 'converted'), 'gpt2', 1, [1]);
    plain = await loadModel(join(dir.path, 'plain'));
  });

  afterAll(async () => {
    plain?.engine.dispose();
    await dir?.cleanup();
  });

  it('refuses the spiking modes on a model loaded without spiking parameters', async () => {
    expect(plain.spiking).toBeNull();
    expect(inferenceModes(plain)).toEqual(['ann']);
    const ids = Int32Array.from([1, 2, 3]);
    await expect(plain.engine.forward(ids, 1, 3, { mode: 'snn' })).rejects.toThrow(/need a model loaded with its spiking parameters/);
    expect(() => plain.engine.createSession({ mode: 'qcfs' })).toThrow(/spiking parameters/);
    await expect(plain.engine.forward(ids, 1, 3, { mode: 'spiking' as InferenceMode })).rejects.toThrow(/'ann', 'qcfs', 'snn'/);
  });

  it('rejects spiking parameters that do not fit the model, naming the value', async () => {
    const spec = plain.folder.spec;
    const spiking = { levels: 8, signed: false, lambdas: Float32Array.of(1, 1) };
    await expect(native.loadModel(spec, { spiking: { ...spiking, lambdas: Float32Array.of(1) } })).rejects.toThrow(/1 lambdas for 2 layers/);
    await expect(native.loadModel(spec, { spiking: { ...spiking, timesteps: 0 } })).rejects.toThrow(/timesteps must be an integer from 1 to 1024/);
    const neuron = { threshold: Float32Array.of(1, 1), v0: Float32Array.of(0, 0), shape: [2] };
    await expect(native.loadModel(spec, { spiking: { ...spiking, neurons: [neuron, neuron] } })).rejects.toThrow(/2 thresholds do not fit \[1\], \[64\]/);
    await expect(native.loadModel(spec, { spiking: { ...spiking, neurons: [{ ...neuron, shape: [3] }] } })).rejects.toThrow(
      /shape holds 3 values, threshold 2/,
    );
  });

  it("runs snn on the GPU with backend 'cuda', or on the CPU saying why", async () => {
    const model = await loadModel(join(dir.path, 'converted'), { spikingBackend: 'cuda' });
    try {
      const { stats } = await model.engine.forwardWithStats(Int32Array.from([5, 6, 7]), 1, 3, { mode: 'snn' });
      const cuda = native.hardware().cuda;
      if (cuda.usable) {
        expect(stats).toMatchObject({ backend: 'cuda', backendNote: '', downProjection: { gpu: 2 } });
      } else {
        expect(stats.backend).toBe('cpu');
        expect(stats.backendNote).toContain(cuda.reason);
      }
    } finally {
      model.engine.dispose();
    }
  });
});
