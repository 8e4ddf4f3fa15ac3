// The train/validation split. It is made per document, so validation text is text the model has
// not trained on, and drawn from a seed, so a rerun of the same job validates on the same text.
import { deriveSeed, shuffledIndices } from '../random.js';
import type { CollectedTokens, TokenIds } from './tokenStore.js';

/** A run of tokens (with its loss mask when there is one) that blocks are cut from. */
export interface TokenStream {
  ids: TokenIds;
  mask: Uint8Array | null;
}

export interface SplitResult {
  train: TokenStream;
  validation: TokenStream;
  /** Why there is no validation set, when there is none although one was asked for. */
  note: string | null;
}

/** Stream id for the split's permutation; epochs use 0, 1, 2..., so -1 never collides with them. */
const SPLIT_STREAM = -1;

/**
 * Splits the tokens; `blockLength` (block size + 1) is the smallest useful share. Consumes
 * `tokens`: the training tokens are compacted in place into its arrays.
 */
export function splitTokens(tokens: CollectedTokens, blockLength: number, fraction: number, seed: number): SplitResult {
  const choice = chooseValidation(tokens.docEnds, blockLength, fraction, seed);
  return { ...separate(tokens, choice.ranges), note: choice.note };
}

type Range = [start: number, end: number];

/**
 * Validation takes whole documents, in seeded order, while they fit the target share. When that
 * does not add up to one block (a corpus of one long book, say), it takes the tail of the first
 * document that did not fit, so any corpus with two blocks of tokens gets a validation block.
 */
function chooseValidation(docEnds: Uint32Array, blockLength: number, fraction: number, seed: number): { ranges: Range[]; note: string | null } {
  const total = docEnds.length > 0 ? docEnds[docEnds.length - 1] : 0;
  if (fraction === 0) return { ranges: [], note: null };
  if (total < 2 * blockLength) {
    const note =
      `No validation set: ${total} tokens make at most one block of ${blockLength} tokens, and validation needs ` +
      `a second one (${2 * blockLength} tokens in all). Add more text or lower the block size.`;
    return { ranges: [], note };
  }
  const target = Math.min(Math.max(Math.ceil(fraction * total), blockLength), total - blockLength);
  const ranges: Range[] = [];
  let size = 0;
  let firstMisfit = -1;
  for (const doc of shuffledIndices(docEnds.length, deriveSeed(seed, SPLIT_STREAM))) {
    const [start, end] = documentRange(docEnds, doc);
    if (size + end - start <= target) {
      ranges.push([start, end]);
      size += end - start;
      if (size === target) break;
    } else if (firstMisfit < 0) {
      firstMisfit = doc;
    }
  }
  if (size < blockLength) {
    // Some document did not fit (size < target < total), and it is longer than what is missing.
    const end = documentRange(docEnds, firstMisfit)[1];
    ranges.push([end - (target - size), end]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  return { ranges, note: null };
}

function documentRange(docEnds: Uint32Array, doc: number): Range {
  return [doc > 0 ? docEnds[doc - 1] : 0, docEnds[doc]];
}

/** Copies the validation ranges out, then closes the gaps they leave so training stays contiguous. */
function separate(tokens: CollectedTokens, ranges: Range[]): { train: TokenStream; validation: TokenStream } {
  const { ids, mask } = tokens;
  const validationLength = ranges.reduce((sum, [start, end]) => sum + end - start, 0);
  const validation: TokenStream = {
    ids: ids instanceof Uint16Array ? new Uint16Array(validationLength) : new Int32Array(validationLength),
    mask: mask ? new Uint8Array(validationLength) : null,
  };
  let read = 0; // next token not yet placed
  let write = 0; // end of the compacted training tokens
  let copied = 0; // end of the validation tokens
  const keepForTraining = (end: number) => {
    ids.copyWithin(write, read, end);
    mask?.copyWithin(write, read, end);
    write += end - read;
  };
  for (const [start, end] of ranges) {
    keepForTraining(start); // writes below `start` only, so this range is still intact
    validation.ids.set(ids.subarray(start, end), copied);
    if (mask) validation.mask?.set(mask.subarray(start, end), copied);
    copied += end - start;
    read = end;
  }
  keepForTraining(ids.length);
  return { train: { ids: ids.subarray(0, write), mask: mask?.subarray(0, write) ?? null }, validation };
}
