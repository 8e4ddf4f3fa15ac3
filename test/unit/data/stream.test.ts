import { describe, expect, it } from 'vitest';
import { loadTokenDataset } from '../../../electron/core/data/index.js';
import type { DatasetOptions } from '../../../electron/core/data/index.js';
import { charTokenizer, codes, jsonl, useTempDir } from './helpers.js';

const dir = useTempDir();

function load(path: string, options: Partial<DatasetOptions> = {}) {
  return loadTokenDataset({ path, tokenizer: charTokenizer(), blockSize: 16, validationFraction: 0, seed: 1, ...options });
}

/** About 45 KB of paragraphs mixing 1-, 2-, 3- and 4-byte characters. */
function bigText(): string {
  return Array.from({ length: 400 }, (_, i) => `Paragraph ${i}: café – naïve 🙂 ${'word '.repeat(i % 30)}end.`).join('\n\n');
}

describe('streamed reading', () => {
  it('reads a file many times larger than the chunk size exactly as a whole', async () => {
    const text = bigText();
    const path = await dir.write('big.txt', text);
    const tokenizer = charTokenizer();
    // 997 bytes: an odd size, so chunks end inside multi-byte characters.
    const data = await load(path, { tokenizer, chunkBytes: 997 });
    expect(Array.from(data.train.ids)).toEqual([...codes(text), 0]);
    expect(data.stats.bytesRead).toBe(Buffer.byteLength(text));
    // The tokenizer saw bounded pieces, each but the last ending at a paragraph break.
    expect(tokenizer.calls.length).toBeGreaterThan(20);
    expect(tokenizer.calls.slice(0, -1).every((piece) => piece.endsWith('\n\n') && piece.length < 3000)).toBe(true);
  });

  it('reads JSONL whose lines straddle chunk boundaries', async () => {
    const records = Array.from({ length: 200 }, (_, i) => ({ prompt: `question ${i} ¿`, completion: `answer ${i} 🙂` }));
    const path = await dir.write('big.jsonl', jsonl(records));
    const whole = await load(path);
    const streamed = await load(path, { chunkBytes: 61 });
    expect(Array.from(streamed.train.ids)).toEqual(Array.from(whole.train.ids));
    expect(Array.from(streamed.train.mask!)).toEqual(Array.from(whole.train.mask!));
    expect(streamed.stats.documents).toBe(200);
  });
});

describe('byte budget', () => {
  it('stops reading at the budget and says so', async () => {
    const path = await dir.write('big.txt', bigText());
    const data = await load(path, { maxBytes: 5000, chunkBytes: 1024 });
    expect(data.stats.bytesRead).toBe(5000);
    expect(data.stats.truncated).toBe(true);
    expect(data.notes[0]).toContain('Stopped reading after 5000 bytes');
    expect(data.stats.tokens).toBeLessThan(5000);
  });

  it('does not read or tokenise the files after the budget', async () => {
    await dir.write('corpus/a.txt', 'a'.repeat(100));
    await dir.write('corpus/b.txt', 'b'.repeat(100));
    const tokenizer = charTokenizer();
    const data = await load(dir.path('corpus'), { tokenizer, maxBytes: 100 });
    expect(tokenizer.calls.join('')).toBe('a'.repeat(100));
    expect(data.stats).toMatchObject({ documents: 1, bytesRead: 100, truncated: true });
  });

  it('drops a character cut by the budget instead of failing', async () => {
    const path = await dir.write('u.txt', 'x'.repeat(19) + 'é'.repeat(10)); // byte 20 is inside an é
    const data = await load(path, { maxBytes: 20 });
    expect(Array.from(data.train.ids)).toEqual([...codes('x'.repeat(19)), 0]);
  });

  it('drops a JSONL line cut by the budget instead of reporting it', async () => {
    const content = jsonl([{ text: 'a'.repeat(30) }, { text: 'b'.repeat(30) }]);
    const path = await dir.write('d.jsonl', content);
    const data = await load(path, { maxBytes: content.indexOf('\n') + 10 });
    expect(data.stats).toMatchObject({ documents: 1, truncated: true });
  });

  it('is not truncated when the budget covers the whole data', async () => {
    const path = await dir.write('a.txt', 'a'.repeat(100));
    const data = await load(path, { maxBytes: 100 });
    expect(data.stats).toMatchObject({ bytesRead: 100, truncated: false });
    expect(data.notes).toEqual([]);
  });
});
