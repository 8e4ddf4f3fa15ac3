// The training binding end to end: a tiny GPT-2 written by hand as an F32 safetensors file in Hugging
// Face's layout (Conv1D weights stored [in, out], fused c_attn), trained through loadNative(); and
// every tiny family, opened by the model loader, evaluated against the independent float64 reference.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpt2Spec } from '../helpers/gpt2-spec.js';
import { openModelFolder } from '../../electron/core/model/folder.js';
import { loadNative, type NativeModelSpec, type NativeTensorRef, type NativeTrainer, type TrainerStepHyper } from '../../native/index.js';
import { TINY_VARIANTS, writeTinyModel } from '../helpers/tiny-models.js';
import { referenceForward } from '../reference/forward.js';

const VOCAB = 32;
const HIDDEN = 16;
const HEADS = 2;
const LAYERS = 2;
const FFN = 32;
const POSITIONS = 16;

const HYPER: TrainerStepHyper = {
  lr: { decay: 1e-2, noDecay: 1e-2, threshold: 5e-2 },
  weightDecay: 0.01,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  clipNorm: 1,
};

/** Deterministic values in [mean - scale, mean + scale) from a small LCG. */
function values(n: number, seed: number, scale: number, mean = 0): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return mean + scale * (2 * (state / 4294967296) - 1);
  });
}

/**
 * Writes the tiny GPT-2 as model.safetensors (HF names and layout) and returns the spec that maps it
 * to canonical names, with the canonical ([out, in]) values of each weight for checking getTensor.
 */
async function writeTinyGpt2(dir: string): Promise<{ spec: NativeModelSpec; canonical: Map<string, Float32Array> }> {
  const stored: Array<{ name: string; shape: number[]; data: Float32Array }> = [];
  let seed = 1;
  const add = (name: string, shape: number[], scale: number, mean = 0) =>
    stored.push({
      name,
      shape,
      data: values(
        shape.reduce((a, b) => a * b),
        seed++,
        scale,
        mean,
      ),
    });
  add('wte.weight', [VOCAB, HIDDEN], 1);
  add('wpe.weight', [POSITIONS, HIDDEN], 0.3);
  for (let i = 0; i < LAYERS; i++) {
    const h = `h.${i}.`;
    for (const ln of ['ln_1', 'ln_2']) {
      add(`${h}${ln}.weight`, [HIDDEN], 0.2, 1);
      add(`${h}${ln}.bias`, [HIDDEN], 0.2);
    }
    add(`${h}attn.c_attn.weight`, [HIDDEN, 3 * HIDDEN], 0.5);
    add(`${h}attn.c_attn.bias`, [3 * HIDDEN], 0.2);
    add(`${h}attn.c_proj.weight`, [HIDDEN, HIDDEN], 0.5);
    add(`${h}attn.c_proj.bias`, [HIDDEN], 0.2);
    add(`${h}mlp.c_fc.weight`, [HIDDEN, FFN], 0.5);
    add(`${h}mlp.c_fc.bias`, [FFN], 0.2);
    add(`${h}mlp.c_proj.weight`, [FFN, HIDDEN], 0.3);
    add(`${h}mlp.c_proj.bias`, [HIDDEN], 0.2);
  }
  add('ln_f.weight', [HIDDEN], 0.2, 1);
  add('ln_f.bias', [HIDDEN], 0.2);

  // Header, padded to 8 bytes, then the data.
  const header: Record<string, unknown> = {};
  let at = 0;
  for (const t of stored) {
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [at, at + t.data.byteLength] };
    at += t.data.byteLength;
  }
  const json = JSON.stringify(header).padEnd(Math.ceil(JSON.stringify(header).length / 8) * 8, ' ');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  const file = join(dir, 'model.safetensors');
  await writeFile(file, Buffer.concat([length, Buffer.from(json), ...stored.map((t) => Buffer.from(t.data.buffer))]));

  const tensors: Record<string, NativeTensorRef> = {};
  const canonical = new Map<string, Float32Array>();
  let offset = 8 + json.length;
  const where = new Map<string, { offset: number; shape: number[]; data: Float32Array }>();
  for (const t of stored) {
    where.set(t.name, { offset, shape: t.shape, data: t.data });
    offset += t.data.byteLength;
  }
  // canonical name <- HF name; Conv1D weights are stored [in, out] and c_attn fuses q|k|v.
  const map = (name: string, hf: string, extra: Partial<NativeTensorRef> = {}) => {
    const t = where.get(hf)!;
    tensors[name] = { file, offset: t.offset, byteLength: t.data.byteLength, dtype: 'F32', shape: t.shape, ...extra };
    canonical.set(name, extra.transposed ? transpose(t.data, t.shape, extra.split) : slice(t.data, extra.split));
  };
  map('embed.tokens', 'wte.weight');
  map('embed.positions', 'wpe.weight');
  for (let i = 0; i < LAYERS; i++) {
    const h = `h.${i}.`;
    const l = `layers.${i}.`;
    map(`${l}attn_norm.weight`, `${h}ln_1.weight`);
    map(`${l}attn_norm.bias`, `${h}ln_1.bias`);
    ['q', 'k', 'v'].forEach((part, index) => {
      map(`${l}attn.${part}.weight`, `${h}attn.c_attn.weight`, { transposed: true, split: { index, parts: 3 } });
      map(`${l}attn.${part}.bias`, `${h}attn.c_attn.bias`, { split: { index, parts: 3 } });
    });
    map(`${l}attn.o.weight`, `${h}attn.c_proj.weight`, { transposed: true });
    map(`${l}attn.o.bias`, `${h}attn.c_proj.bias`);
    map(`${l}ffn_norm.weight`, `${h}ln_2.weight`);
    map(`${l}ffn_norm.bias`, `${h}ln_2.bias`);
    map(`${l}ffn.up.weight`, `${h}mlp.c_fc.weight`, { transposed: true });
    map(`${l}ffn.up.bias`, `${h}mlp.c_fc.bias`);
    map(`${l}ffn.down.weight`, `${h}mlp.c_proj.weight`, { transposed: true });
    map(`${l}ffn.down.bias`, `${h}mlp.c_proj.bias`);
  }
  map('final_norm.weight', 'ln_f.weight');
  map('final_norm.bias', 'ln_f.bias');
  const spec = gpt2Spec({ vocab: VOCAB, hidden: HIDDEN, heads: HEADS, layers: LAYERS, ffn: FFN, positions: POSITIONS }, tensors);
  return { spec, canonical };
}

/** Part `split.index` of a 1-D tensor cut in `split.parts`. */
function slice(data: Float32Array, split?: { index: number; parts: number }): Float32Array {
  if (!split) return data;
  const n = data.length / split.parts;
  return data.slice(split.index * n, (split.index + 1) * n);
}

/** Canonical [out, in] from stored [in, outTotal], taking one part of the outputs. */
function transpose(data: Float32Array, [rows, cols]: number[], split = { index: 0, parts: 1 }): Float32Array {
  const outs = cols / split.parts;
  const out = new Float32Array(outs * rows);
  for (let o = 0; o < outs; o++) {
    for (let i = 0; i < rows; i++) out[o * rows + i] = data[i * cols + split.index * outs + o]!;
  }
  return out;
}

/** A repeated batch: 2 sequences of 8 tokens, targets the next token. */
function batch(): { inputs: Int32Array; targets: Int32Array } {
  const tokens = Array.from({ length: 18 }, (_, i) => (i * 7 + 3) % VOCAB);
  const inputs = Int32Array.from([...tokens.slice(0, 8), ...tokens.slice(9, 17)]);
  const targets = Int32Array.from([...tokens.slice(1, 9), ...tokens.slice(10, 18)]);
  return { inputs, targets };
}

describe('trainer binding', () => {
  let dir: string;
  let spec: NativeModelSpec;
  let canonical: Map<string, Float32Array>;
  const open: NativeTrainer[] = [];
  const create = async (qcfs: boolean, threads?: number) => {
    const options = qcfs ? { qcfs: { levels: 8, initialLambda: 2, signed: false }, threads } : { threads };
    const trainer = await loadNative().createTrainer(spec, options);
    open.push(trainer);
    return trainer;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fas-trainer-'));
    ({ spec, canonical } = await writeTinyGpt2(dir));
  });
  afterAll(async () => {
    for (const t of open) {
      try {
        t.dispose();
      } catch {
        // already disposed by its test
      }
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('lists the parameters with their groups and reads them in canonical layout', async () => {
    const trainer = await create(true);
    const params = trainer.parameters();
    expect(params.length).toBe(canonical.size + LAYERS);
    for (const p of params) {
      if (p.name.endsWith('.qcfs.lambda')) {
        expect(p).toMatchObject({ shape: [1], group: 'threshold' });
        expect(trainer.getTensor(p.name)).toEqual(Float32Array.of(2));
        continue;
      }
      expect(p.group).toBe(p.shape.length === 2 ? 'decay' : 'no_decay');
      expect(trainer.getTensor(p.name)).toEqual(canonical.get(p.name));
    }
    expect(params.at(-1)).toMatchObject({ name: 'layers.1.qcfs.lambda' });
  });

  it('evaluates like the inference engine, and QCFS differs from the ANN', async () => {
    const trainer = await create(true);
    const { inputs, targets } = batch();
    const model = await loadNative().loadModel(spec);
    const logits = await model.forward(inputs, 2, 8);
    model.dispose();
    let expected = 0;
    for (let i = 0; i < 16; i++) {
      const row = logits.subarray(i * VOCAB, (i + 1) * VOCAB);
      const max = Math.max(...row);
      expected += max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0)) - row[targets[i]!]!;
    }
    const ann = await trainer.evaluate(inputs, targets, 2, 8, 'ann');
    expect(ann.tokens).toBe(16);
    expect(ann.lossSum).toBeCloseTo(expected, 4);
    const qcfs = await trainer.evaluate(inputs, targets, 2, 8, 'qcfs');
    expect(Math.abs(qcfs.lossSum - ann.lossSum)).toBeGreaterThan(1e-3);
    const mask = new Uint8Array(16).fill(1);
    mask[0] = 0;
    mask[15] = 0;
    expect((await trainer.evaluate(inputs, targets, 2, 8, 'ann', mask)).tokens).toBe(14);
  });

  it('trains: the loss falls on a repeated batch and the lambdas move', async () => {
    const trainer = await create(true);
    const { inputs, targets } = batch();
    const losses: number[] = [];
    for (let step = 0; step < 6; step++) {
      const { loss, tokens } = await trainer.forwardBackward(inputs, targets, 2, 8);
      expect(tokens).toBe(16);
      losses.push(loss);
      const { gradNorm, applied } = await trainer.optimizerStep(HYPER);
      expect(applied).toBe(true);
      expect(gradNorm).toBeGreaterThan(0);
    }
    expect(losses.at(-1)!).toBeLessThan(0.8 * losses[0]!);
    expect(trainer.getTensor('layers.0.qcfs.lambda')[0]).not.toBe(2);
    expect(trainer.getOptimizerState().step).toBe(6);
  });

  it('resumes bit-exactly from saved parameters and optimizer state', async () => {
    const { inputs, targets } = batch();
    const step = async (t: NativeTrainer) => {
      await t.forwardBackward(inputs, targets, 2, 8);
      return t.optimizerStep(HYPER);
    };
    const first = await create(true);
    for (let i = 0; i < 2; i++) await step(first);
    const saved = first.parameters().map((p) => [p.name, first.getTensor(p.name)] as const);
    const state = first.getOptimizerState();
    for (let i = 0; i < 2; i++) await step(first);

    const second = await create(true, 1); // another thread count, same bits
    for (const [name, data] of saved) second.setTensor(name, data);
    second.setOptimizerState(state);
    for (let i = 0; i < 2; i++) await step(second);
    for (const p of first.parameters()) expect(second.getTensor(p.name)).toEqual(first.getTensor(p.name));
    expect(second.getOptimizerState()).toEqual(first.getOptimizerState());
  });

  it('abort() stops the micro-batch in flight without adding its gradients', async () => {
    const trainer = await create(false);
    const { inputs, targets } = batch();
    const call = trainer.forwardBackward(inputs, targets, 2, 8);
    trainer.abort();
    await expect(call).rejects.toThrow('aborted');
    await expect(trainer.forwardBackward(inputs, targets, 2, 8)).rejects.toThrow('aborted');
    // Nothing was accumulated: there is no step to take, and the parameters are as they were.
    await expect(trainer.optimizerStep(HYPER)).rejects.toThrow(/needs gradients/);
    expect(trainer.getOptimizerState().step).toBe(0);
  });

  it('reports a NaN loss and does not apply the step', async () => {
    const trainer = await create(false);
    const { inputs, targets } = batch();
    const weight = trainer.getTensor('layers.1.ffn.up.weight');
    weight[5] = NaN;
    trainer.setTensor('layers.1.ffn.up.weight', weight);
    const before = trainer.getTensor('layers.0.attn.q.weight');
    const { loss } = await trainer.forwardBackward(inputs, targets, 2, 8);
    expect(loss).toBeNaN();
    const result = await trainer.optimizerStep(HYPER);
    expect(result.applied).toBe(false);
    expect(result.gradNorm).toBeNaN();
    expect(trainer.getTensor('layers.0.attn.q.weight')).toEqual(before);
    expect(trainer.getOptimizerState().step).toBe(0);
  });

  it('refuses overlapping calls, bad input and use after dispose', async () => {
    const trainer = await create(false);
    const { inputs, targets } = batch();
    const running = trainer.forwardBackward(inputs, targets, 2, 8);
    await expect(trainer.forwardBackward(inputs, targets, 2, 8)).rejects.toThrow(/busy/);
    expect(() => trainer.getTensor('embed.tokens')).toThrow(/busy/);
    await running;
    await expect(trainer.evaluate(inputs, targets, 2, 8, 'qcfs')).rejects.toThrow(/qcfs/);
    await expect(trainer.forwardBackward(Int32Array.of(VOCAB), Int32Array.of(0), 1, 1)).rejects.toThrow(/vocabulary/);
    await expect(trainer.forwardBackward(inputs, targets, 3, 8)).rejects.toThrow(/batch \* seqLen/);
    expect(() => trainer.setTensor('embed.tokens', new Float32Array(3))).toThrow(/values/);
    expect(() => trainer.getTensor('layers.9.ffn.up.weight')).toThrow(/no parameter/);
    await expect(loadNative().createTrainer(spec, { qcfs: { levels: 8, initialLambda: 0, signed: false } })).rejects.toThrow(/initialLambda/);
    trainer.dispose();
    expect(() => trainer.parameters()).toThrow(/disposed/);
    await expect(trainer.optimizerStep(HYPER)).rejects.toThrow(/disposed/);
  });
});

describe('trainer loss matches the float64 reference on every tiny family', async () => {
  const root = await mkdtemp(join(tmpdir(), 'fas-trainer-families-'));
  afterAll(() => rm(root, { recursive: true, force: true }));
  const ids = [256, 72, 101, 108, 108, 111, 44, 32, 119, 111];
  for (const variant of TINY_VARIANTS) {
    it(variant, async () => {
      const dir = join(root, variant);
      await writeTinyModel(dir, variant);
      const { spec } = await openModelFolder(dir);
      const trainer = await loadNative().createTrainer(spec);
      const inputs = Int32Array.from(ids.slice(0, -1));
      const targets = Int32Array.from(ids.slice(1));
      const { lossSum, tokens } = await trainer.evaluate(inputs, targets, 1, inputs.length, 'ann');
      trainer.dispose();
      const logits = await referenceForward(dir, ids.slice(0, -1));
      let expected = 0;
      logits.forEach((row, i) => {
        const max = Math.max(...row);
        expected += max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0)) - row[targets[i]!]!;
      });
      expect(tokens).toBe(inputs.length);
      expect(Math.abs(lossSum - expected)).toBeLessThan(1e-4 * expected);
    });
  }
});
