import { describe, expect, it } from 'vitest';
import { loadTokenDataset, TrainBatches } from '../../../electron/core/data/index.js';
import { charTokenizer, codes, jsonl, useTempDir } from './helpers.js';

const dir = useTempDir();
const base = { blockSize: 4, validationFraction: 0, seed: 1 };

describe('input kinds', () => {
  it('reads a plain text file as one document ended by eos', async () => {
    const path = await dir.write('book.txt', 'hello world');
    const data = await loadTokenDataset({ ...base, path, tokenizer: charTokenizer() });
    expect(Array.from(data.train.ids)).toEqual([...codes('hello world'), 0]);
    expect(data.train.mask).toBeNull();
    expect(data.stats).toMatchObject({ kind: 'text', files: 1, documents: 1, tokens: 12, bytesRead: 11, truncated: false });
    expect(data.stats.trainBlocks).toBe(2); // floor((12 - 1) / 4)
  });

  it('reads a folder recursively, .txt and .md only, in sorted path order', async () => {
    await dir.write('corpus/b.txt', 'bbbb');
    await dir.write('corpus/a/c.md', 'cccc');
    await dir.write('corpus/a/notes.json', '{"x": 1}');
    await dir.write('corpus/.git/d.txt', 'dddd');
    await dir.write('corpus/Z.TXT', 'zzzz');
    const data = await loadTokenDataset({ ...base, path: dir.path('corpus'), tokenizer: charTokenizer() });
    expect(Array.from(data.train.ids)).toEqual([...codes('zzzz'), 0, ...codes('cccc'), 0, ...codes('bbbb'), 0]);
    expect(data.stats).toMatchObject({ files: 3, documents: 3, tokens: 15 });
  });

  it('reads JSONL text records, skipping blank lines and accepting CRLF', async () => {
    const path = await dir.write('data.jsonl', '{"text": "one"}\r\n\r\n{"text": "two", "source": "x"}\r\n');
    const data = await loadTokenDataset({ ...base, path, tokenizer: charTokenizer() });
    expect(Array.from(data.train.ids)).toEqual([...codes('one'), 0, ...codes('two'), 0]);
    expect(data.stats).toMatchObject({ kind: 'jsonl', documents: 2 });
  });

  it('trains prompt/completion records on the completion (and its eos) only', async () => {
    const path = await dir.write(
      'sft.jsonl',
      jsonl([
        { prompt: 'Q:', completion: 'ab' },
        { prompt: 'Q:', completion: 'cd' },
      ]),
    );
    const data = await loadTokenDataset({ ...base, blockSize: 9, path, tokenizer: charTokenizer() });
    expect(Array.from(data.train.ids)).toEqual([...codes('Q:ab'), 0, ...codes('Q:cd'), 0]);
    expect(Array.from(data.train.mask!)).toEqual([0, 0, 1, 1, 1, 0, 0, 1, 1, 1]);
    // The batch mask is aligned with the targets: a target counts when it is a completion token.
    const batch = new TrainBatches(data, 1, { epoch: 0, index: 0, seed: 0 }).next();
    expect(Array.from(batch.targets)).toEqual([...codes(':ab'), 0, ...codes('Q:cd'), 0]);
    expect(Array.from(batch.mask!)).toEqual([0, 1, 1, 1, 0, 0, 1, 1, 1]);
  });

  it('runs documents together when the tokenizer has no eos token', async () => {
    const path = await dir.write('data.jsonl', jsonl([{ text: 'ab' }, { text: 'cd' }]));
    const data = await loadTokenDataset({ ...base, blockSize: 3, path, tokenizer: charTokenizer(null) });
    expect(Array.from(data.train.ids)).toEqual(codes('abcd'));
    expect(data.stats.documents).toBe(2);
  });

  it('drops a byte order mark and keeps ids above 65535 (wider storage)', async () => {
    const path = await dir.write('emoji.txt', '\ufeffhi 🙂 there');
    const data = await loadTokenDataset({ ...base, path, tokenizer: charTokenizer() });
    expect(data.train.ids).toBeInstanceOf(Int32Array);
    expect(Array.from(data.train.ids)).toEqual([...codes('hi 🙂 there'), 0]);
  });

  it('keeps 16-bit storage while every id fits', async () => {
    const path = await dir.write('plain.txt', 'plain ascii text');
    const data = await loadTokenDataset({ ...base, path, tokenizer: charTokenizer() });
    expect(data.train.ids).toBeInstanceOf(Uint16Array);
  });
});
