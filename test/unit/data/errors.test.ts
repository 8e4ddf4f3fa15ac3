import { describe, expect, it } from 'vitest';
import { DataError, loadTokenDataset, TrainBatches } from '../../../electron/core/data/index.js';
import type { DatasetOptions } from '../../../electron/core/data/index.js';
import { charTokenizer, useTempDir } from './helpers.js';

const dir = useTempDir();

function load(path: string, options: Partial<DatasetOptions> = {}) {
  return loadTokenDataset({ path, tokenizer: charTokenizer(), blockSize: 4, validationFraction: 0, seed: 1, ...options });
}

/** Resolves to the DataError `promise` rejects with, failing the test on anything else. */
async function failure(promise: Promise<unknown>): Promise<DataError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DataError);
  return error as DataError;
}

describe('input errors', () => {
  it('names a missing file or folder', async () => {
    const error = await failure(load(dir.path('nope.txt')));
    expect(error.code).toBe('not-found');
    expect(error.message).toContain('nope.txt does not exist');
  });

  it('rejects a folder without .txt or .md files', async () => {
    await dir.write('corpus/data.csv', 'a,b');
    const error = await failure(load(dir.path('corpus')));
    expect(error.code).toBe('no-files');
    expect(error.message).toContain('has no .txt or .md files');
  });

  it('rejects data without any text', async () => {
    const error = await failure(load(await dir.write('empty.txt', '')));
    expect(error.code).toBe('empty');
    expect(error.message).toContain('No text found');
  });

  it('says how many tokens were found and how many one block needs', async () => {
    const error = await failure(load(await dir.write('short.txt', 'abc'), { blockSize: 8 }));
    expect(error.code).toBe('too-small');
    expect(error.message).toContain('only 4 tokens (1 document), but one block needs 9');
  });

  it('rejects a binary file with the offset of its NUL byte', async () => {
    const error = await failure(load(await dir.write('model.bin', new Uint8Array([104, 105, 33, 33, 33, 0, 1]))));
    expect(error.code).toBe('binary');
    expect(error.message).toContain('NUL byte at byte 5');
  });

  it('gives the byte offset of invalid UTF-8', async () => {
    const latin1 = new Uint8Array([...Buffer.from('caf'), 0xe9, ...Buffer.from(' au lait')]);
    const error = await failure(load(await dir.write('latin1.txt', latin1)));
    expect(error.code).toBe('encoding');
    expect(error.message).toContain('invalid byte at byte 3');
  });

  it('finds the offset when the bad sequence starts in one chunk and ends in the next', async () => {
    // 0xC3 ends the first 4-byte chunk and is held back; the "x" that follows cannot complete it.
    const bytes = new Uint8Array([...Buffer.from('abcdefg'), 0xc3, ...Buffer.from('xyz')]);
    const error = await failure(load(await dir.write('split.txt', bytes), { chunkBytes: 4 }));
    expect(error.message).toContain('invalid byte at byte 7');
  });

  it('rejects encoded surrogates, which TextDecoder treats as invalid', async () => {
    const bytes = new Uint8Array([...Buffer.from('ok '), 0xed, 0xa0, 0x80, ...Buffer.from(' more')]);
    const error = await failure(load(await dir.write('surrogate.txt', bytes)));
    expect(error.message).toContain('invalid byte at byte 3');
  });

  it('rejects a file that ends in the middle of a character', async () => {
    const bytes = new Uint8Array([...Buffer.from('abcdefgh'), 0xe2, 0x82]);
    const error = await failure(load(await dir.write('cut.txt', bytes)));
    expect(error.message).toContain('ends in the middle of a character at byte 8');
  });
});

describe('JSONL errors', () => {
  const cases: [string, string, string][] = [
    ['invalid JSON', '{"text": "ok"}\n{"text": oops}\n', 'line 2 is not valid JSON'],
    ['an array', '["text"]\n', 'line 1: expected {"text": "..."} or {"prompt": "...", "completion": "..."}, got an array'],
    ['a missing text field', '{"body": "x"}\n', '"text" is missing'],
    ['a text that is not a string', '{"text": 5}\n', '"text" is not a string'],
    ['a prompt without completion', '{"prompt": "x"}\n', 'line 1: "prompt" and "completion" must both be strings'],
    ['both kinds of record', '{"text": "a", "prompt": "b", "completion": "c"}\n', 'has both "text" and "prompt"/"completion"'],
    ['a bad last line without newline', '{"text": "abcdef"}\n\n{"text"', 'line 3 is not valid JSON'],
  ];
  it.each(cases)('names the line of %s', async (_name, content, message) => {
    const error = await failure(load(await dir.write('data.jsonl', content)));
    expect(error.code).toBe('jsonl');
    expect(error.message).toContain('data.jsonl');
    expect(error.message).toContain(message);
  });
});

describe('option and tokenizer errors', () => {
  it.each([
    [{ blockSize: 0 }, 'Block size'],
    [{ validationFraction: 1 }, 'Validation fraction'],
    [{ seed: 0.5 }, 'Seed'],
    [{ maxBytes: 0 }, 'Byte budget'],
    [{ chunkBytes: 0 }, 'Chunk size'],
  ])('rejects %o', async (options, message) => {
    const error = await failure(load(await dir.write('a.txt', 'hello'), options));
    expect(error.code).toBe('options');
    expect(error.message).toContain(message);
  });

  it('rejects ids that are not token ids', async () => {
    const tokenizer = { eosId: null, encode: () => [1, -2] };
    const error = await failure(load(await dir.write('a.txt', 'hello'), { tokenizer }));
    expect(error.code).toBe('tokenizer');
    expect(error.message).toContain('returned -2');
  });

  it('rejects a cursor saved for other data', async () => {
    const data = await load(await dir.write('a.txt', 'hello world'));
    expect(() => new TrainBatches(data, 1, { epoch: 0, index: 99, seed: 1 })).toThrow(/does not fit this dataset \(2 training blocks\)/);
    expect(() => new TrainBatches(data, 0, { epoch: 0, index: 0, seed: 1 })).toThrow(/Batch size/);
  });
});
