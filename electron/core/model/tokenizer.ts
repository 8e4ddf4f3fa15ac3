// Text <-> token ids through a folder's tokenizer.json (the Hugging Face tokenizers format), plus
// a streaming detokenizer that only ever emits finished text.
import { readFile } from 'node:fs/promises';
import { Tokenizer } from '@huggingface/tokenizers';
import type { DataTokenizer } from '../data/tokenizer.js';
import { ModelFolderError } from './errors.js';
import { hasNestedQuantifier, tokenizerRegexes } from './regex-safety.js';

export interface TokenizerFiles {
  tokenizerJson: string;
  tokenizerConfig: string | null;
  specialTokensMap: string | null;
}

/** Special token ids as config.json gives them; used when the tokenizer files do not name them. */
export interface ConfigTokenIds {
  bosTokenId: number | null;
  eosTokenIds: number[];
  padTokenId: number | null;
}

export interface TokenizerSources {
  tokenizerJson: unknown;
  tokenizerConfig?: Record<string, unknown>;
  specialTokensMap?: Record<string, unknown>;
  configIds?: ConfigTokenIds;
}

type SpecialToken = 'bos_token' | 'eos_token' | 'pad_token';

export class TextTokenizer {
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly padId: number | null;
  /** Ids that end generation: eosId and every other end-of-sequence id config.json lists. */
  readonly stopIds: number[];
  private readonly inner: Tokenizer;
  private readonly cleanUpSpaces: boolean;

  /** Throws a plain Error when tokenizer.json is not a usable tokenizer. */
  constructor({ tokenizerJson, tokenizerConfig = {}, specialTokensMap = {}, configIds }: TokenizerSources) {
    if (typeof tokenizerJson !== 'object' || tokenizerJson === null || !('model' in tokenizerJson)) {
      throw new Error('tokenizer.json has no "model" section');
    }
    const risky = tokenizerRegexes(tokenizerJson).find(hasNestedQuantifier);
    if (risky !== undefined) {
      throw new Error(
        `its pattern ${JSON.stringify(risky.slice(0, 80))} repeats a group that itself repeats, which can take ` +
          'practically forever on some texts; no supported model needs such a pattern',
      );
    }
    // The library insists on these keys although the format makes them optional.
    const optional = { normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [] };
    this.inner = new Tokenizer({ ...optional, ...tokenizerJson }, tokenizerConfig);
    // Off unless asked for: clean-up rewrites text (" ." -> "."), so decoding would not round-trip.
    this.cleanUpSpaces = tokenizerConfig.clean_up_tokenization_spaces === true;

    const named = (key: SpecialToken): number | null => {
      for (const source of [tokenizerConfig, specialTokensMap]) {
        const id = this.tokenId(tokenContent(source[key]));
        if (id !== null) return id;
      }
      return null;
    };
    this.bosId = named('bos_token') ?? configIds?.bosTokenId ?? null;
    this.eosId = named('eos_token') ?? configIds?.eosTokenIds[0] ?? null;
    this.padId = named('pad_token') ?? configIds?.padTokenId ?? null;
    const stops = [this.eosId, ...(configIds?.eosTokenIds ?? [])].filter((id): id is number => id !== null);
    this.stopIds = [...new Set(stops)];
  }

  /** Token ids of `text`; special tokens (e.g. a BOS) are added as the tokenizer's post-processor says. */
  encode(text: string, { addSpecialTokens = true } = {}): number[] {
    return this.inner.encode(text, { add_special_tokens: addSpecialTokens }).ids;
  }

  /** As the data pipeline reads text: documents without special tokens, separated by eosId. */
  forData(): DataTokenizer {
    return { encode: (text) => this.encode(text, { addSpecialTokens: false }), eosId: this.eosId };
  }

  decode(ids: readonly number[], { skipSpecialTokens = false } = {}): string {
    if (ids.length === 0) return '';
    for (const id of ids) {
      if (!Number.isInteger(id) || this.inner.id_to_token(id) === undefined) {
        throw new RangeError(`Token id ${id} is not in the tokenizer's vocabulary.`);
      }
    }
    return this.inner.decode([...ids], {
      skip_special_tokens: skipSpecialTokens,
      clean_up_tokenization_spaces: this.cleanUpSpaces,
    });
  }

  /** The id of a token given by its text, or null when the vocabulary has no such token. */
  tokenId(content: string | null): number | null {
    return content === null ? null : (this.inner.token_to_id(content) ?? null);
  }
}

/** tokenizer_config.json writes special tokens as strings or as {"content": ...} objects. */
function tokenContent(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return null;
}

/** Reads the tokenizer files of a model folder. */
export async function loadTokenizer(files: TokenizerFiles, configIds?: ConfigTokenIds): Promise<TextTokenizer> {
  const read = async (file: string) => {
    try {
      return JSON.parse(await readFile(file, 'utf8')) as unknown;
    } catch (error) {
      throw new ModelFolderError('invalid-tokenizer', `${file} could not be read as JSON (${(error as Error).message}).`);
    }
  };
  const tokenizerJson = await read(files.tokenizerJson);
  const tokenizerConfig = files.tokenizerConfig ? ((await read(files.tokenizerConfig)) as Record<string, unknown>) : {};
  const specialTokensMap = files.specialTokensMap ? ((await read(files.specialTokensMap)) as Record<string, unknown>) : {};
  try {
    return new TextTokenizer({ tokenizerJson, tokenizerConfig, specialTokensMap, configIds });
  } catch (error) {
    throw new ModelFolderError('invalid-tokenizer', `${files.tokenizerJson} is not a tokenizer this app can use (${(error as Error).message}).`, {
      cause: error,
    });
  }
}

/** A probe text that every usable tokenizer turns into ids inside the model's vocabulary. */
const PROBE_TEXT = 'Hello, world! 123';

/**
 * Refuses a tokenizer that cannot serve the model: one that turns ordinary text into nothing, or into
 * ids the model has no embedding for. Run when a folder is opened, so the folder is reported broken
 * at once instead of failing later in a job or a chat.
 */
export function checkTokenizerVocabulary(tokenizer: TextTokenizer, file: string, modelVocabSize: number): void {
  let ids: number[];
  try {
    ids = tokenizer.encode(PROBE_TEXT, { addSpecialTokens: false });
  } catch (error) {
    throw new ModelFolderError('invalid-tokenizer', `${file} cannot tokenize text (${(error as Error).message}).`, { cause: error });
  }
  if (ids.length === 0) {
    throw new ModelFolderError('invalid-tokenizer', `${file} has no usable vocabulary: it turns the text "${PROBE_TEXT}" into no tokens at all.`);
  }
  const bad = ids.find((id) => !Number.isInteger(id) || id < 0 || id >= modelVocabSize);
  if (bad !== undefined) {
    throw new ModelFolderError(
      'invalid-tokenizer',
      `${file} has no usable vocabulary for this model: it turns "${PROBE_TEXT}" into token ${String(bad)}, ` +
        `but the model has embeddings for ids 0 to ${modelVocabSize - 1} only. The tokenizer and the weights do not belong together.`,
    );
  }
}

/**
 * Turns generated ids into text as they arrive. A token can end inside a UTF-8 character (byte-level
 * BPE splits emoji across tokens) and a token's text can depend on its neighbours (SentencePiece
 * spaces), so each step decodes a short window of recent ids and emits only the new, finished text.
 */
export class StreamDetokenizer {
  /** The ids of the last emitted step (context for the next decode) followed by pending ones. */
  private ids: number[] = [];
  /** How many of `ids` have already been emitted. */
  private readOffset = 0;

  constructor(
    private readonly tokenizer: TextTokenizer,
    private readonly skipSpecialTokens = true,
  ) {}

  /** Adds one id; returns the text it completes (often '', never half a character). */
  push(id: number): string {
    this.ids.push(id);
    const emitted = this.decode(this.ids.slice(0, this.readOffset));
    const text = this.decode(this.ids);
    // An unfinished UTF-8 sequence decodes to U+FFFD: wait for the bytes that complete it.
    if (text.length <= emitted.length || text.endsWith('\uFFFD')) return '';
    this.ids = this.ids.slice(this.readOffset);
    this.readOffset = this.ids.length;
    return text.slice(emitted.length);
  }

  /** Emits whatever is left, complete or not (call when generation ends). */
  flush(): string {
    const emitted = this.decode(this.ids.slice(0, this.readOffset));
    const text = this.decode(this.ids);
    this.ids = [];
    this.readOffset = 0;
    return text.length > emitted.length ? text.slice(emitted.length) : '';
  }

  private decode(ids: number[]): string {
    return this.tokenizer.decode(ids, { skipSpecialTokens: this.skipSpecialTokens });
  }
}

/** Number of token ids a tokenizer.json can produce: its largest vocabulary or added-token id + 1. */
export function tokenizerVocabSize(tokenizerJson: unknown): number {
  const json = tokenizerJson as { model?: { vocab?: Record<string, number> | Array<[string, number]> }; added_tokens?: Array<{ id: number }> };
  const vocab = json.model?.vocab;
  // BPE/WordPiece keep {token: id}; Unigram (SentencePiece) keeps [token, score] pairs indexed by id.
  const vocabMax = Array.isArray(vocab) ? vocab.length - 1 : Math.max(-1, ...Object.values(vocab ?? {}));
  const addedMax = Math.max(-1, ...(json.added_tokens ?? []).map((t) => t.id));
  return Math.max(vocabMax, addedMax) + 1;
}
