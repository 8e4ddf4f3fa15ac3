// The inference binding end to end: a tiny GPT-2-shaped model written by hand as an F32 safetensors
// file in Hugging Face's layout (Conv1D weights stored [in, out], fused c_attn), loaded through
// loadNative(), then forward, sessions and generation.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpt2Spec } from '../helpers/gpt2-spec.js';
import { loadNative, type NativeModel, type NativeModelSpec, type NativeTensorRef } from '../../native/index.js';

const VOCAB = 40;
const HIDDEN = 16;
const HEADS = 2;
const LAYERS = 2;
const FFN = 32;
const POSITIONS = 4096; // long enough for the abort test to still be generating when it aborts

interface StoredTensor {
  name: string;
  shape: number[];
  values: Float32Array;
}

/** Deterministic normal-ish values (sum of uniforms from a small LCG), scaled. */
function values(n: number, seed: number, scale: number, mean = 0): Float32Array {
  let state = seed >>> 0;
  const uniform = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  return Float32Array.from({ length: n }, () => mean + scale * (uniform() + uniform() + uniform() - 1.5));
}

/** 8-byte little-endian header length, JSON header padded to 8 bytes, then the data. */
async function writeSafetensors(path: string, tensors: StoredTensor[]): Promise<Map<string, number>> {
  const header: Record<string, unknown> = {};
  let at = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [at, at + t.values.byteLength] };
    at += t.values.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  const data = Buffer.concat(tensors.map((t) => Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength)));
  await writeFile(path, Buffer.concat([length, Buffer.from(json), data]));
  const offsets = new Map<string, number>();
  for (const t of tensors) offsets.set(t.name, 8 + json.length + (header[t.name] as { data_offsets: number[] }).data_offsets[0]);
  return offsets;
}

/** The tiny GPT-2 in HF names and layout, and the NativeModelSpec that maps it to canonical names. */
async function writeTinyGpt2(dir: string): Promise<NativeModelSpec> {
  const file = join(dir, 'model.safetensors');
  const stored: StoredTensor[] = [];
  const refs: Record<string, Omit<NativeTensorRef, 'offset' | 'byteLength' | 'file' | 'dtype'> & { hf: string }> = {};
  let seed = 1;
  const add = (hf: string, shape: number[], scale: number, mean = 0) => {
    stored.push({
      name: hf,
      shape,
      values: values(
        shape.reduce((a, b) => a * b),
        seed++,
        scale,
        mean,
      ),
    });
  };
  add('wte.weight', [VOCAB, HIDDEN], 1.0);
  add('wpe.weight', [POSITIONS, HIDDEN], 0.3);
  refs['embed.tokens'] = { hf: 'wte.weight', shape: [VOCAB, HIDDEN] };
  refs['embed.positions'] = { hf: 'wpe.weight', shape: [POSITIONS, HIDDEN] };
  for (let i = 0; i < LAYERS; i++) {
    const h = `h.${i}.`;
    const l = `layers.${i}.`;
    add(`${h}ln_1.weight`, [HIDDEN], 0.2, 1);
    add(`${h}ln_1.bias`, [HIDDEN], 0.2);
    add(`${h}attn.c_attn.weight`, [HIDDEN, 3 * HIDDEN], 0.5);
    add(`${h}attn.c_attn.bias`, [3 * HIDDEN], 0.2);
    add(`${h}attn.c_proj.weight`, [HIDDEN, HIDDEN], 0.5);
    add(`${h}attn.c_proj.bias`, [HIDDEN], 0.2);
    add(`${h}ln_2.weight`, [HIDDEN], 0.2, 1);
    add(`${h}ln_2.bias`, [HIDDEN], 0.2);
    add(`${h}mlp.c_fc.weight`, [HIDDEN, FFN], 0.5);
    add(`${h}mlp.c_fc.bias`, [FFN], 0.2);
    add(`${h}mlp.c_proj.weight`, [FFN, HIDDEN], 0.35);
    add(`${h}mlp.c_proj.bias`, [HIDDEN], 0.2);
    ['q', 'k', 'v'].forEach((part, index) => {
      const split = { index, parts: 3 };
      refs[`${l}attn.${part}.weight`] = { hf: `${h}attn.c_attn.weight`, shape: [HIDDEN, 3 * HIDDEN], transposed: true, split };
      refs[`${l}attn.${part}.bias`] = { hf: `${h}attn.c_attn.bias`, shape: [3 * HIDDEN], split };
    });
    refs[`${l}attn.o.weight`] = { hf: `${h}attn.c_proj.weight`, shape: [HIDDEN, HIDDEN], transposed: true };
    refs[`${l}attn.o.bias`] = { hf: `${h}attn.c_proj.bias`, shape: [HIDDEN] };
    refs[`${l}ffn.up.weight`] = { hf: `${h}mlp.c_fc.weight`, shape: [HIDDEN, FFN], transposed: true };
    refs[`${l}ffn.up.bias`] = { hf: `${h}mlp.c_fc.bias`, shape: [FFN] };
    refs[`${l}ffn.down.weight`] = { hf: `${h}mlp.c_proj.weight`, shape: [FFN, HIDDEN], transposed: true };
    refs[`${l}ffn.down.bias`] = { hf: `${h}mlp.c_proj.bias`, shape: [HIDDEN] };
    for (const [norm, hfNorm] of [
      ['attn_norm', 'ln_1'],
      ['ffn_norm', 'ln_2'],
    ]) {
      refs[`${l}${norm}.weight`] = { hf: `${h}${hfNorm}.weight`, shape: [HIDDEN] };
      refs[`${l}${norm}.bias`] = { hf: `${h}${hfNorm}.bias`, shape: [HIDDEN] };
    }
  }
  add('ln_f.weight', [HIDDEN], 0.2, 1);
  add('ln_f.bias', [HIDDEN], 0.2);
  refs['final_norm.weight'] = { hf: 'ln_f.weight', shape: [HIDDEN] };
  refs['final_norm.bias'] = { hf: 'ln_f.bias', shape: [HIDDEN] };

  const offsets = await writeSafetensors(file, stored);
  const tensors: Record<string, NativeTensorRef> = {};
  for (const [canonical, { hf, ...ref }] of Object.entries(refs)) {
    const byteLength = ref.shape.reduce((a, b) => a * b) * 4;
    tensors[canonical] = { file, offset: offsets.get(hf)!, byteLength, dtype: 'F32', ...ref };
  }
  return gpt2Spec({ vocab: VOCAB, hidden: HIDDEN, heads: HEADS, layers: LAYERS, ffn: FFN, positions: POSITIONS }, tensors);
}

function argmax(logits: Float32Array, from = 0, length = logits.length - from): number {
  let best = from;
  for (let i = from; i < from + length; i++) if (logits[i] > logits[best]) best = i;
  return best - from;
}

function maxRelativeDiff(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    norm = Math.max(norm, Math.abs(b[i]));
  }
  return diff / norm;
}

describe('native model binding', () => {
  const native = loadNative();
  let dir: string;
  let spec: NativeModelSpec;
  let model: NativeModel;
  const prompt = Int32Array.from([3, 14, 15, 9, 2]);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fas-model-binding-'));
    spec = await writeTinyGpt2(dir);
    model = await native.loadModel(spec);
  });

  afterAll(async () => {
    model?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('sets and reports the thread count', () => {
    const before = native.getThreads();
    expect(before).toBeGreaterThanOrEqual(1);
    native.setThreads(3);
    expect(native.getThreads()).toBe(3);
    native.setThreads(before);
    expect(() => native.setThreads(0)).toThrow(/threads/);
  });

  it('runs a batched forward, and lastOnly gives the same last rows', async () => {
    const ids = Int32Array.from([3, 14, 15, 9, 2, 6, 5, 35, 8, 9]);
    const all = await model.forward(ids, 2, 5);
    expect(all).toBeInstanceOf(Float32Array);
    expect(all.length).toBe(2 * 5 * VOCAB);
    expect(all.every(Number.isFinite)).toBe(true);
    const last = await model.forward(ids, 2, 5, { lastOnly: true });
    expect(last.length).toBe(2 * VOCAB);
    for (let b = 0; b < 2; b++) {
      const row = all.subarray((b * 5 + 4) * VOCAB, (b * 5 + 5) * VOCAB);
      expect(maxRelativeDiff(last.subarray(b * VOCAB, (b + 1) * VOCAB), row)).toBeLessThan(1e-5);
    }
    // Each sequence of the batch on its own gives the same logits.
    const second = await model.forward(ids.subarray(5), 1, 5);
    expect(maxRelativeDiff(all.subarray(5 * VOCAB), second)).toBeLessThan(1e-5);
    // Calls in flight at once each fill their own array (made before the work starts).
    const together = await Promise.all([model.forward(ids, 2, 5), model.forward(ids.subarray(5), 1, 5)]);
    expect(maxRelativeDiff(together[0], all)).toBe(0);
    expect(maxRelativeDiff(together[1], second)).toBe(0);
  });

  it('rejects bad arguments with clear errors', async () => {
    await expect(model.forward(Int32Array.from([1, 2, 3]), 2, 2)).rejects.toThrow(/batch \* seqLen/);
    await expect(model.forward(Int32Array.from([1, VOCAB]), 1, 2)).rejects.toThrow(/token id 40 at index 1/);
    const tooLong = new Int32Array(POSITIONS + 1);
    await expect(model.forward(tooLong, 1, tooLong.length)).rejects.toThrow(/context overflow/);
    const session = model.createSession();
    await expect(session.eval(new Int32Array(POSITIONS + 1))).rejects.toThrow(/context overflow/);
  });

  it('evaluates a prompt in a session like a forward pass, then continues it', async () => {
    const session = model.createSession();
    const logits = await session.eval(prompt);
    const full = await model.forward(prompt, 1, prompt.length, { lastOnly: true });
    expect(maxRelativeDiff(logits, full)).toBeLessThan(1e-5);
    const next = await session.eval(Int32Array.from([7]));
    const both = Int32Array.from([...prompt, 7]);
    expect(maxRelativeDiff(next, await model.forward(both, 1, both.length, { lastOnly: true }))).toBeLessThan(1e-5);
  });

  it('generates greedily the argmax of the forward pass, streaming every token', async () => {
    const session = model.createSession();
    const streamed: number[] = [];
    const result = await session.generate({ promptIds: prompt, maxTokens: 6 }, (id) => streamed.push(id));
    expect(result.stopReason).toBe('length');
    expect(result.tokens).toHaveLength(6);
    expect(streamed).toEqual(result.tokens);
    const context = [...prompt];
    for (const token of result.tokens) {
      const logits = await model.forward(Int32Array.from(context), 1, context.length, { lastOnly: true });
      expect(token).toBe(argmax(logits));
      context.push(token);
    }
  });

  it('samples reproducibly from a seed and stops on an end-of-sequence id', async () => {
    const options = { promptIds: prompt, maxTokens: 12, temperature: 1.2, topK: 20, topP: 0.95, repetitionPenalty: 1.2, seed: 7 };
    const run = async (extra: object = {}) => (await model.createSession().generate({ ...options, ...extra }, () => {})).tokens;
    const first = await run();
    expect(await run()).toEqual(first);
    const eos = first[3];
    const stopped = await model.createSession().generate({ ...options, eosIds: [eos] }, () => {});
    expect(stopped.stopReason).toBe('eos');
    expect(stopped.tokens).toEqual(first.slice(0, first.indexOf(eos) + 1));
  });

  it('aborts a generation in progress', async () => {
    const session = model.createSession();
    const streamed: number[] = [];
    const maxTokens = POSITIONS - prompt.length;
    const result = await session.generate({ promptIds: prompt, maxTokens }, (id) => {
      streamed.push(id);
      session.abort();
    });
    expect(result.stopReason).toBe('aborted');
    expect(result.tokens.length).toBeGreaterThan(0);
    expect(result.tokens.length).toBeLessThan(maxTokens);
    expect(streamed).toEqual(result.tokens);
    // The session stays usable: its context is the prompt plus what was generated.
    session.reset();
    expect((await session.eval(prompt)).length).toBe(VOCAB);
  });

  it('rejects with what onToken throws, and refuses a second call while one runs', async () => {
    const session = model.createSession();
    const failing = session.generate({ promptIds: prompt, maxTokens: 50 }, () => {
      throw new Error('listener failed');
    });
    await expect(session.eval(prompt)).rejects.toThrow(/busy/);
    await expect(failing).rejects.toThrow('listener failed');
    expect((await session.generate({ promptIds: [], maxTokens: 1 }, () => {})).tokens).toHaveLength(1);
  });

  it('rejects a spec whose tensor lies beyond the end of its file, naming the tensor', async () => {
    const ref = spec.tensors['layers.1.ffn.up.weight'];
    const bad = { ...spec, tensors: { ...spec.tensors, 'layers.1.ffn.up.weight': { ...ref, offset: ref.offset + 100_000_000 } } };
    await expect(native.loadModel(bad)).rejects.toThrow(Error);
    await expect(native.loadModel(bad)).rejects.toThrow(/layers\.1\.ffn\.up\.weight.*beyond the end of the file/);
  });

  it('refuses to run a disposed model', async () => {
    const other = await native.loadModel(spec);
    other.dispose();
    await expect(other.forward(prompt, 1, prompt.length)).rejects.toThrow(/disposed/);
    expect(() => other.createSession()).toThrow(/disposed/);
  });
});
