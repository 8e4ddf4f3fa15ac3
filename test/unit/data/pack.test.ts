import { describe, expect, it } from 'vitest';
import { loadTokenDataset, validationBatches } from '../../../electron/core/data/index.js';
import { packBlocks } from '../../../electron/core/data/pack.js';
import { charTokenizer, codes, useTempDir } from './helpers.js';

const dir = useTempDir();

describe('packBlocks', () => {
  it.each([
    // [tokens, block size, block starts]: floor((tokens - 1) / blockSize) blocks, one apart by blockSize
    [4, 4, []],
    [5, 4, [0]],
    [8, 4, [0]],
    [9, 4, [0, 4]],
    [12, 4, [0, 4]],
    [13, 4, [0, 4, 8]],
    [7, 1, [0, 1, 2, 3, 4, 5]],
  ])('packs %i tokens into blocks of %i + 1', (length, blockSize, starts) => {
    expect(Array.from(packBlocks(length, blockSize, null).starts)).toEqual(starts);
  });

  it('skips blocks whose targets are all masked, judging targets and not inputs', () => {
    // Block 0 targets tokens 1..3 (all 0), block 1 targets 4..6, block 2 targets 7..9.
    const mask = new Uint8Array([1, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
    expect(packBlocks(10, 3, mask)).toEqual({ starts: new Uint32Array([3]), skipped: 2 });
  });
});

describe('blocks of a loaded dataset', () => {
  it('overlaps inputs and targets by one token and uses every token after the first as a target', async () => {
    const path = await dir.write('a.txt', 'abcdefghij'); // 10 characters + eos = 11 tokens
    const data = await loadTokenDataset({ path, tokenizer: charTokenizer(), blockSize: 5, validationFraction: 0, seed: 1 });
    expect(data.stats.trainBlocks).toBe(2);
    // Read the blocks in stream order through the validation path, which does not shuffle.
    const [batch] = [...validationBatches({ ...data, validation: data.train }, 2)];
    expect(Array.from(batch.inputs)).toEqual(codes('abcdefghij'));
    expect(Array.from(batch.targets)).toEqual([...codes('bcdefghij'), 0]);
  });
});
