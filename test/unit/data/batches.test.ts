import { beforeEach, describe, expect, it } from 'vitest';
import { loadTokenDataset, TrainBatches, validationBatches } from '../../../electron/core/data/index.js';
import type { Batch, TokenDataset } from '../../../electron/core/data/index.js';
import { charTokenizer, jsonl, useTempDir } from './helpers.js';

const dir = useTempDir();
let data: TokenDataset;

beforeEach(async () => {
  // 25 documents of 11 distinct characters + eos: 300 tokens; 60 go to validation (20%).
  const records = Array.from({ length: 25 }, (_, i) => ({
    text: Array.from({ length: 11 }, (_, k) => String.fromCodePoint(0x100 + i * 11 + k)).join(''),
  }));
  const path = await dir.write('docs.jsonl', jsonl(records));
  data = await loadTokenDataset({ path, tokenizer: charTokenizer(), blockSize: 4, validationFraction: 0.2, seed: 3 });
});

const start = (seed: number) => ({ epoch: 0, index: 0, seed });
const take = (batches: TrainBatches, count: number): Batch[] => Array.from({ length: count }, () => batches.next());
/** A block is identified by its first input token (every token in the fixture is distinct, but eos). */
const firstTokens = (batch: Batch, blockSize: number) =>
  Array.from({ length: batch.size }, (_, row) => `${batch.inputs[row * blockSize]}:${batch.inputs[row * blockSize + 1]}`);

describe('training batches', () => {
  it('have the configured shape and shift targets by one token', () => {
    const [batch] = take(new TrainBatches(data, 3, start(1)), 1);
    expect(batch.size).toBe(3);
    expect(batch.inputs.length).toBe(12);
    expect(batch.mask).toBeUndefined();
    for (let row = 0; row < 3; row++) {
      expect(Array.from(batch.inputs.subarray(row * 4 + 1, row * 4 + 4))).toEqual(Array.from(batch.targets.subarray(row * 4, row * 4 + 3)));
    }
  });

  it('visit every training block once per epoch', () => {
    const blocks = data.stats.trainBlocks;
    const seen = take(new TrainBatches(data, 1, start(1)), blocks).flatMap((b) => firstTokens(b, 4));
    expect(new Set(seen).size).toBe(blocks);
  });

  it('come in the same order for the same seed and another order for another seed', () => {
    const order = (seed: number) => take(new TrainBatches(data, 4, start(seed)), 5).flatMap((b) => firstTokens(b, 4));
    expect(order(1)).toEqual(order(1));
    expect(order(1)).not.toEqual(order(2));
  });

  it('reshuffle each epoch', () => {
    const blocks = data.stats.trainBlocks;
    const batches = new TrainBatches(data, 1, start(1));
    const first = take(batches, blocks).flatMap((b) => firstTokens(b, 4));
    expect(batches.cursor).toEqual({ epoch: 1, index: 0, seed: 1 });
    const second = take(batches, blocks).flatMap((b) => firstTokens(b, 4));
    expect(new Set(second)).toEqual(new Set(first));
    expect(second).not.toEqual(first);
  });

  it('resume from a saved cursor with exactly the batches of an uninterrupted run, across epochs', () => {
    // A batch of 7 does not divide the block count, so batches straddle epoch boundaries.
    const uninterrupted = take(new TrainBatches(data, 7, start(5)), 30);
    const first = new TrainBatches(data, 7, start(5));
    const before = take(first, 13);
    const saved = JSON.parse(JSON.stringify(first.cursor));
    const after = take(new TrainBatches(data, 7, saved), 17);
    expect([...before, ...after]).toEqual(uninterrupted);
  });
});

describe('validation batches', () => {
  it('return every validation block in stream order, the same each time', () => {
    const blocks = data.stats.validationBlocks;
    const all = [...validationBatches(data, 4)];
    expect(all.map((b) => b.size)).toEqual([...Array(Math.floor(blocks / 4)).fill(4), ...(blocks % 4 ? [blocks % 4] : [])]);
    expect([...validationBatches(data, 4)]).toEqual(all);
    const ids = data.validation.ids;
    all
      .flatMap((b) => Array.from({ length: b.size }, (_, row) => b.inputs[row * 4]))
      .forEach((token, i) => {
        expect(token).toBe(ids[i * 4]);
      });
  });

  it('spread a capped number of blocks evenly over the set', () => {
    const blocks = data.stats.validationBlocks;
    const [batch] = [...validationBatches(data, 10, 3)];
    expect(batch.size).toBe(3);
    const expected = [0, 1, 2].map((i) => data.validation.ids[data.validation.blockStarts[Math.floor((i * blocks) / 3)]]);
    expect([batch.inputs[0], batch.inputs[4], batch.inputs[8]]).toEqual(expected);
  });

  it('carry the loss mask of prompt/completion data', async () => {
    const records = Array.from({ length: 10 }, () => ({ prompt: 'PPPP', completion: 'cc' }));
    const sft = await loadTokenDataset({
      path: await dir.write('sft.jsonl', jsonl(records)),
      tokenizer: charTokenizer(),
      blockSize: 6,
      validationFraction: 0.3,
      seed: 1,
    });
    for (const batch of [...validationBatches(sft, 2), new TrainBatches(sft, 2, start(1)).next()]) {
      // The mask is 1 exactly where the target is a completion character or the eos after it.
      const expected = Array.from(batch.targets, (t) => (t === 'c'.codePointAt(0) || t === 0 ? 1 : 0));
      expect(Array.from(batch.mask!)).toEqual(expected);
    }
  });
});
