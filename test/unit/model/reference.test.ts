// Sanity checks of the independent reference forward, so that it can be trusted as the yardstick
// for the engine: properties every causal LM has, equivalences between variants, and hand-computed
// cases that only exercise embeddings, norms and the head.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceForward } from '../../reference/forward.js';
import { causalAttention, geluNew, rope, type Mat } from '../../reference/ops.js';
import {
  TINY_VARIANTS,
  TINY_VOCAB,
  tempDir,
  tinyModelContents,
  writeTinyFolder,
  writeTinyModel,
  type TinyModelContents,
  type TinyVariant,
} from '../../helpers/tiny-models.js';

let root: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ path: root, cleanup } = await tempDir()));
afterAll(() => cleanup());

const IDS = [72, 101, 108, 108, 111, 32, 240, 159, 164, 151, 256, 3];

async function logitsOf(name: string, contents: TinyModelContents, ids = IDS, maxShardBytes?: number): Promise<Float64Array[]> {
  const dir = join(root, name);
  await writeTinyFolder(dir, contents, maxShardBytes);
  return referenceForward(dir, ids);
}

function expectClose(actual: Float64Array[], expected: Float64Array[], tolerance = 1e-9): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, r) => row.forEach((value, v) => expect(Math.abs(value - expected[r][v]), `position ${r}, token ${v}`).toBeLessThanOrEqual(tolerance)));
}

describe.each(TINY_VARIANTS)('reference forward on tiny %s', (variant: TinyVariant) => {
  it('gives finite, non-trivial logits for every position', async () => {
    const dir = join(root, `basic-${variant}`);
    await writeTinyModel(dir, variant);
    const logits = await referenceForward(dir, IDS);
    expect(logits).toHaveLength(IDS.length);
    for (const row of logits) {
      expect(row).toHaveLength(TINY_VOCAB);
      expect(row.every(Number.isFinite)).toBe(true);
      expect(Math.max(...row) - Math.min(...row)).toBeGreaterThan(0.1);
    }
  });

  it('is causal: a position does not depend on later tokens', async () => {
    const dir = join(root, `causal-${variant}`);
    await writeTinyModel(dir, variant);
    const full = await referenceForward(dir, IDS);
    const prefix = await referenceForward(dir, IDS.slice(0, 5));
    const changedTail = await referenceForward(dir, [...IDS.slice(0, 5), 7, 7, 7]);
    expectClose(prefix, full.slice(0, 5), 1e-12);
    expectClose(changedTail.slice(0, 5), full.slice(0, 5), 1e-12);
    expect(changedTail[5]).not.toEqual(full[5]);
  });
});

function zeroed(contents: TinyModelContents, which: RegExp): TinyModelContents {
  for (const [name, tensor] of Object.entries(contents.tensors)) if (which.test(name)) tensor.values.fill(0);
  return contents;
}

/** LayerNorm of one row, written out again on purpose for the hand checks. */
function normalize(x: number[], weight: Float32Array, bias: Float32Array, eps: number): number[] {
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length;
  return x.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * weight[i] + bias[i]);
}

function headLogits(hidden: number[], head: Float32Array): number[] {
  const dim = hidden.length;
  return Array.from({ length: head.length / dim }, (_, t) => hidden.reduce((sum, h, i) => sum + h * head[t * dim + i], 0));
}

describe('hand-computed cases', () => {
  it('GPT-2 with all weights zero gives uniform logits', async () => {
    const logits = await logitsOf('gpt2-zero', zeroed(tinyModelContents('gpt2'), /./));
    for (const row of logits) expect(new Set(row).size).toBe(1);
  });

  it('GPT-2 with empty blocks is ln_f(wte + wpe) against wte', async () => {
    const contents = zeroed(tinyModelContents('gpt2'), /^h\./);
    const logits = await logitsOf('gpt2-empty-blocks', contents);
    const t = contents.tensors;
    const e = 16;
    IDS.forEach((id, pos) => {
      const x = Array.from({ length: e }, (_, i) => t['wte.weight'].values[id * e + i] + t['wpe.weight'].values[pos * e + i]);
      const expected = headLogits(normalize(x, t['ln_f.weight'].values, t['ln_f.bias'].values, 1e-5), t['wte.weight'].values);
      expectClose([logits[pos]], [Float64Array.from(expected)], 1e-9);
    });
  });

  it('OPT with empty blocks reads position p from row p + 2', async () => {
    const contents = zeroed(tinyModelContents('opt'), /layers\./);
    const logits = await logitsOf('opt-empty-blocks', contents);
    const t = contents.tensors;
    const p = 'model.decoder.';
    const h = 16;
    IDS.forEach((id, pos) => {
      const tokens = t[`${p}embed_tokens.weight`].values;
      const positions = t[`${p}embed_positions.weight`].values;
      const x = Array.from({ length: h }, (_, i) => tokens[id * h + i] + positions[(pos + 2) * h + i]);
      const normed = normalize(x, t[`${p}final_layer_norm.weight`].values, t[`${p}final_layer_norm.bias`].values, 1e-5);
      expectClose([logits[pos]], [Float64Array.from(headLogits(normed, t[`${p}embed_tokens.weight`].values))], 1e-9);
    });
  });
});

describe('equivalent models give equal logits', () => {
  it('GQA equals multi-head attention with each K/V head repeated for its group', async () => {
    const gqa = tinyModelContents('llama-gqa-tied');
    const mha = tinyModelContents('llama-gqa-tied');
    mha.config.num_key_value_heads = 4;
    for (const name of Object.keys(mha.tensors).filter((n) => /[kv]_proj\.weight$/.test(n))) {
      const { values } = gqa.tensors[name]; // [2 heads * 4, 16] -> [4 heads * 4, 16], heads 0,0,1,1
      const rows = 4 * 16;
      const repeated = new Float32Array(2 * values.length);
      for (let head = 0; head < 4; head++) {
        const kvHead = Math.floor(head / 2);
        repeated.set(values.subarray(kvHead * rows, (kvHead + 1) * rows), head * rows);
      }
      mha.tensors[name] = { ...gqa.tensors[name], shape: [16, 16], values: repeated };
    }
    expectClose(await logitsOf('gqa', gqa), await logitsOf('mha', mha));
  });

  it('an untied head holding a copy of the embedding equals a tied head', async () => {
    const untied = tinyModelContents('llama');
    untied.tensors['lm_head.weight'] = { ...untied.tensors['model.embed_tokens.weight'] };
    const tied = tinyModelContents('llama');
    delete tied.tensors['lm_head.weight'];
    tied.config.tie_word_embeddings = true;
    expectClose(await logitsOf('untied-copy', untied), await logitsOf('tied', tied));
  });

  it('Qwen2 with zero q/k/v biases equals the same weights as LLaMA', async () => {
    const qwen = zeroed(tinyModelContents('qwen2'), /_proj\.bias$/);
    const llama = tinyModelContents('qwen2');
    for (const name of Object.keys(llama.tensors).filter((n) => n.endsWith('_proj.bias'))) delete llama.tensors[name];
    Object.assign(llama.config, { model_type: 'llama', architectures: ['LlamaForCausalLM'] });
    expectClose(await logitsOf('qwen-zero-bias', qwen), await logitsOf('qwen-as-llama', llama));
  });

  it('F16 files equal F32 files holding the same rounded values, sharded or not', async () => {
    const half = tinyModelContents('opt-350m', { dtype: 'F16' });
    const full = tinyModelContents('opt-350m', { dtype: 'F16' });
    for (const tensor of Object.values(full.tensors)) tensor.dtype = 'F32';
    const expected = await logitsOf('f16', half);
    expectClose(await logitsOf('f32', full), expected, 0);
    expectClose(await logitsOf('f16-sharded', half, IDS, 2048), expected, 0);
  });
});

describe('reference building blocks', () => {
  const mat = (rows: number, cols: number, values: number[]): Mat => ({ rows, cols, data: Float64Array.from(values) });

  it('gelu_new matches known values', () => {
    expect(geluNew(1)).toBeCloseTo(0.8411919906082768, 15);
    expect(geluNew(-1)).toBeCloseTo(-0.15880800939172324, 15);
  });

  it('rope uses the rotate-half convention and encodes relative positions', () => {
    // x = e0 at position 1: frequency 0 rotates the pair (x[0], x[2]).
    const rotated = rope(mat(2, 4, [0, 0, 0, 0, 1, 0, 0, 0]), 1, 4, 10000);
    expect([...rotated.data.subarray(4)]).toEqual([Math.cos(1), 0, Math.sin(1), 0]);
    // q.k after rope depends only on the distance between positions.
    const q = [0.3, -1.2, 0.7, 0.4];
    const k = [-0.5, 0.9, 0.2, 1.1];
    const dot = (m: number, n: number) => {
      const rq = rope(
        mat(
          m + 1,
          4,
          Array.from({ length: 4 * (m + 1) }, (_, i) => q[i % 4]),
        ),
        1,
        4,
        100,
      ).data.subarray(4 * m);
      const rk = rope(
        mat(
          n + 1,
          4,
          Array.from({ length: 4 * (n + 1) }, (_, i) => k[i % 4]),
        ),
        1,
        4,
        100,
      ).data.subarray(4 * n);
      return rq.reduce((s, v, i) => s + v * rk[i], 0);
    };
    expect(dot(5, 2)).toBeCloseTo(dot(9, 6), 12);
  });

  it('attention over a single position returns its value', () => {
    const v = mat(1, 4, [1, 2, 3, 4]);
    const out = causalAttention(mat(1, 4, [5, 6, 7, 8]), mat(1, 4, [1, 1, 1, 1]), v, 2, 1, 2, 1);
    expect([...out.data]).toEqual([1, 2, 1, 2]);
  });
});
