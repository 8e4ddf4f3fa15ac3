import { describe, expect, it } from 'vitest';
import { loadTokenDataset } from '../../../electron/core/data/index.js';
import type { DatasetOptions } from '../../../electron/core/data/index.js';
import { charTokenizer, codes, jsonl, useTempDir } from './helpers.js';

const dir = useTempDir();

/** 40 documents, each a distinct letter repeated, so a token tells which document it came from. */
async function manyDocuments(): Promise<string> {
  const records = Array.from({ length: 40 }, (_, i) => ({ text: String.fromCodePoint(0x100 + i).repeat(10 + (i % 7)) }));
  return dir.write('docs.jsonl', jsonl(records));
}

function load(path: string, options: Partial<DatasetOptions> = {}) {
  return loadTokenDataset({ path, tokenizer: charTokenizer(), blockSize: 8, validationFraction: 0.2, seed: 7, ...options });
}

const documentsIn = (ids: ArrayLike<number>) => new Set(Array.from(ids).filter((id) => id !== 0));

describe('train/validation split', () => {
  it('is the same for the same seed and different for another seed', async () => {
    const path = await manyDocuments();
    const [a, b, c] = [await load(path), await load(path), await load(path, { seed: 8 })];
    expect(Array.from(a.validation.ids)).toEqual(Array.from(b.validation.ids));
    expect(Array.from(a.validation.ids)).not.toEqual(Array.from(c.validation.ids));
  });

  it('keeps whole documents on one side, close to the requested share', async () => {
    const data = await load(await manyDocuments());
    const train = documentsIn(data.train.ids);
    const validation = documentsIn(data.validation.ids);
    expect([...validation].filter((doc) => train.has(doc))).toEqual([]);
    expect(train.size + validation.size).toBe(40);
    expect(data.stats.trainTokens + data.stats.validationTokens).toBe(data.stats.tokens);
    expect(data.stats.validationTokens).toBeLessThanOrEqual(Math.ceil(0.2 * data.stats.tokens));
    expect(data.stats.validationTokens).toBeGreaterThan(0.15 * data.stats.tokens);
  });

  it('cuts the tail of a single long document so it still gets validation', async () => {
    const text = 'abcdefghijklmnopqrstuvwxyz'.repeat(4); // 104 characters + eos = 105 tokens
    const data = await load(await dir.write('one.txt', text), { validationFraction: 0.1 });
    expect(data.stats.validationTokens).toBe(11); // ceil(0.1 * 105)
    expect(data.stats.validationBlocks).toBe(1);
    expect(Array.from(data.validation.ids)).toEqual([...codes(text.slice(-10)), 0]);
    expect(Array.from(data.train.ids)).toEqual(codes(text.slice(0, -10)));
  });

  it('gives at least one validation block even for a tiny fraction', async () => {
    const data = await load(await manyDocuments(), { validationFraction: 0.001 });
    expect(data.stats.validationBlocks).toBeGreaterThanOrEqual(1);
    expect(data.notes).toEqual([]);
  });

  it('says so when there are too few tokens for a validation block', async () => {
    const data = await load(await dir.write('small.txt', 'abcdefghijklmn'), { validationFraction: 0.5 }); // 15 < 2 * 9
    expect(data.stats.validationBlocks).toBe(0);
    expect(data.stats.trainBlocks).toBe(1);
    expect(data.notes.join(' ')).toContain('No validation set: 15 tokens make at most one block of 9 tokens');
  });

  it('has no validation set and no note when the fraction is 0', async () => {
    const data = await load(await manyDocuments(), { validationFraction: 0 });
    expect(data.stats.validationTokens).toBe(0);
    expect(data.notes).toEqual([]);
  });
});
