// Entry point of the data pipeline: from a path on disk to packed, split training data.
import { collectTokens } from './collect.js';
import { DataError } from './errors.js';
import { listInputFiles } from './files.js';
import type { InputKind } from './files.js';
import { packBlocks } from './pack.js';
import { byteBudget } from './read.js';
import { splitTokens } from './split.js';
import type { TokenStream } from './split.js';
import type { DataTokenizer } from './tokenizer.js';

export interface DatasetOptions {
  /** A text file, a folder of .txt/.md files, or a .jsonl file. */
  path: string;
  tokenizer: DataTokenizer;
  /** Tokens per training example; blocks hold one more token for the shifted targets. */
  blockSize: number;
  /** Share of the tokens kept for validation, from 0 (none) to below 1. */
  validationFraction: number;
  /** Seed of the train/validation split. */
  seed: number;
  /** Stop reading after this many bytes (all files together); the stats say when it did. */
  maxBytes?: number;
  /** Bytes read per file read, and about the text size handed to the tokenizer at once. */
  chunkBytes?: number;
}

/** One side of the split: its tokens and where each block starts in them. */
export interface PackedSplit extends TokenStream {
  blockStarts: Uint32Array;
}

export interface DatasetStats {
  kind: InputKind;
  /** Files in the input, read or (after the byte budget ran out) not. */
  files: number;
  documents: number;
  tokens: number;
  trainTokens: number;
  validationTokens: number;
  trainBlocks: number;
  validationBlocks: number;
  /** Blocks left out because every one of their targets was a prompt token. */
  skippedBlocks: number;
  bytesRead: number;
  /** Reading stopped at the byte budget before the end of the data. */
  truncated: boolean;
}

export interface TokenDataset {
  blockSize: number;
  train: PackedSplit;
  validation: PackedSplit;
  stats: DatasetStats;
  /** Things the user should know, in plain words (the budget cut the data, no validation set). */
  notes: string[];
}

const DEFAULT_CHUNK_BYTES = 1 << 20;

/** The data fields that training and calibration settings share. */
export interface DataSettings {
  dataPath: string;
  blockSize: number;
  validationFraction: number;
  seed: number;
  maxDataBytes?: number;
}

/** The dataset a job's settings describe. */
export function loadJobDataset(settings: DataSettings, tokenizer: DataTokenizer): Promise<TokenDataset> {
  const { dataPath: path, blockSize, validationFraction, seed, maxDataBytes: maxBytes } = settings;
  return loadTokenDataset({ path, tokenizer, blockSize, validationFraction, seed, maxBytes });
}

export async function loadTokenDataset(options: DatasetOptions): Promise<TokenDataset> {
  const { path, tokenizer, blockSize, validationFraction, seed } = options;
  const maxBytes = options.maxBytes ?? Infinity;
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  checkOptions(blockSize, validationFraction, seed, maxBytes, chunkBytes);

  const input = await listInputFiles(path);
  const budget = byteBudget(maxBytes);
  const tokens = await collectTokens(input, tokenizer, chunkBytes, budget);
  const total = tokens.ids.length;
  const blockLength = blockSize + 1;
  const fileCount = plural(input.files.length, 'file');
  const budgetHint = budget.truncated ? ', raise the byte budget' : '';
  if (total === 0) {
    throw new DataError('empty', `No text found in ${path} (${fileCount}, ${budget.used} bytes read). Add text${budgetHint}.`);
  }
  if (total < blockLength) {
    throw new DataError(
      'too-small',
      `${path} gives only ${total} tokens (${plural(tokens.docEnds.length, 'document')}), but one block needs ${blockLength} ` +
        `(block size ${blockSize} + 1). Add more text${budgetHint} or lower the block size.`,
    );
  }

  const split = splitTokens(tokens, blockLength, validationFraction, seed);
  const trainBlocks = packBlocks(split.train.ids.length, blockSize, split.train.mask);
  const validationBlocks = packBlocks(split.validation.ids.length, blockSize, split.validation.mask);
  const train: PackedSplit = { ...split.train, blockStarts: trainBlocks.starts };
  const validation: PackedSplit = { ...split.validation, blockStarts: validationBlocks.starts };
  const notes: string[] = [];
  if (budget.truncated) {
    notes.push(`Stopped reading after ${budget.used} bytes (the byte budget of ${maxBytes}); the rest of ${path} was not used.`);
  }
  if (split.note) notes.push(split.note);
  return {
    blockSize,
    train,
    validation,
    notes,
    stats: {
      kind: input.kind,
      files: input.files.length,
      documents: tokens.docEnds.length,
      tokens: total,
      trainTokens: train.ids.length,
      validationTokens: validation.ids.length,
      trainBlocks: train.blockStarts.length,
      validationBlocks: validation.blockStarts.length,
      skippedBlocks: trainBlocks.skipped + validationBlocks.skipped,
      bytesRead: budget.used,
      truncated: budget.truncated,
    },
  };
}

function checkOptions(blockSize: number, fraction: number, seed: number, maxBytes: number, chunkBytes: number): void {
  const fail = (message: string) => {
    throw new DataError('options', message);
  };
  if (!Number.isInteger(blockSize) || blockSize < 1) fail(`Block size must be a whole number of at least 1, got ${blockSize}.`);
  if (!(fraction >= 0 && fraction < 1)) fail(`Validation fraction must be at least 0 and below 1, got ${fraction}.`);
  if (!Number.isInteger(seed)) fail(`Seed must be a whole number, got ${seed}.`);
  if (maxBytes !== Infinity && !(Number.isInteger(maxBytes) && maxBytes >= 1)) {
    fail(`Byte budget must be a whole number of bytes, at least 1, got ${maxBytes}.`);
  }
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1) fail(`Chunk size must be a whole number of bytes, got ${chunkBytes}.`);
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
