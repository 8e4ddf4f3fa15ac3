// Batches for the training loop: shuffled training batches that can be resumed exactly from a
// saved cursor, and validation batches in a fixed order.
import { DataError } from './errors.js';
import { deriveSeed, shuffledIndices } from '../random.js';
import type { PackedSplit, TokenDataset } from './dataset.js';

/** `size` blocks of `blockSize` tokens, row after row; mask (1 = counts in the loss) only when the data has prompts. */
export interface Batch {
  inputs: Int32Array;
  targets: Int32Array;
  mask?: Uint8Array;
  size: number;
}

/**
 * Where a training run is in the data: `index` blocks of epoch `epoch`'s shuffled order have been
 * used. Plain JSON, saved with a checkpoint and passed back to resume.
 */
export interface BatchCursor {
  epoch: number;
  index: number;
  seed: number;
}

/**
 * Endless training batches. Each epoch visits every training block once in an order drawn from
 * (cursor.seed, epoch); a batch that runs past the end of an epoch continues into the next, so
 * every batch is full and the sequence depends on the cursor alone.
 */
export class TrainBatches {
  private epoch: number;
  private index: number;
  private readonly seed: number;
  private order: Uint32Array;

  constructor(
    private readonly dataset: TokenDataset,
    private readonly batchSize: number,
    cursor: BatchCursor,
  ) {
    const blocks = dataset.train.blockStarts.length;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new DataError('options', `Batch size must be a whole number of at least 1, got ${batchSize}.`);
    }
    if (blocks === 0) throw new DataError('too-small', 'There are no training blocks to make batches from.');
    const { epoch, index, seed } = cursor;
    if (![epoch, index, seed].every(Number.isInteger) || epoch < 0 || index < 0 || index >= blocks) {
      throw new DataError(
        'cursor',
        `The saved data cursor ${JSON.stringify(cursor)} does not fit this dataset (${blocks} training blocks). ` +
          'The data or block size changed since it was saved; restart training from the beginning.',
      );
    }
    this.epoch = epoch;
    this.index = index;
    this.seed = seed;
    this.order = this.epochOrder(epoch);
  }

  /** The cursor to save: resuming from it yields exactly the batches that would have come next. */
  get cursor(): BatchCursor {
    return { epoch: this.epoch, index: this.index, seed: this.seed };
  }

  next(): Batch {
    const batch = emptyBatch(this.batchSize, this.dataset);
    this.nextBlocks().forEach((block, row) => copyBlock(this.dataset.train, block, this.dataset.blockSize, batch, row));
    return batch;
  }

  /** The training blocks of the next batch (indices into `train.blockStarts`), advancing the cursor as next() does. */
  nextBlocks(): Uint32Array {
    const blocks = new Uint32Array(this.batchSize);
    for (let row = 0; row < this.batchSize; row++) {
      blocks[row] = this.order[this.index]!;
      this.index++;
      if (this.index === this.order.length) {
        this.epoch++;
        this.index = 0;
        this.order = this.epochOrder(this.epoch);
      }
    }
    return blocks;
  }

  private epochOrder(epoch: number): Uint32Array {
    return shuffledIndices(this.dataset.train.blockStarts.length, deriveSeed(this.seed, epoch));
  }
}

/**
 * All validation blocks in stream order, or `maxBlocks` of them spread evenly over the set, in
 * batches of `batchSize` (the last one may be smaller). The same every call, so losses compare.
 */
export function* validationBatches(dataset: TokenDataset, batchSize: number, maxBlocks = Infinity): Generator<Batch> {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new DataError('options', `Batch size must be a whole number of at least 1, got ${batchSize}.`);
  }
  if (maxBlocks !== Infinity && !(Number.isInteger(maxBlocks) && maxBlocks >= 0)) {
    throw new DataError('options', `The number of validation blocks must be a whole number, got ${maxBlocks}.`);
  }
  const blocks = validationBlocks(dataset, maxBlocks);
  for (let first = 0; first < blocks.length; first += batchSize) {
    const batch = emptyBatch(Math.min(batchSize, blocks.length - first), dataset);
    for (let row = 0; row < batch.size; row++) copyBlock(dataset.validation, blocks[first + row]!, dataset.blockSize, batch, row);
    yield batch;
  }
}

/** The validation blocks validationBatches visits, in its order: all, or `maxBlocks` spread evenly over the set. */
export function validationBlocks(dataset: TokenDataset, maxBlocks = Infinity): Uint32Array {
  const total = dataset.validation.blockStarts.length;
  const count = Math.min(total, maxBlocks);
  return Uint32Array.from({ length: count }, (_, k) => Math.floor((k * total) / count));
}

function emptyBatch(size: number, dataset: TokenDataset): Batch {
  const length = size * dataset.blockSize;
  const batch: Batch = { inputs: new Int32Array(length), targets: new Int32Array(length), size };
  if (dataset.train.mask) batch.mask = new Uint8Array(length);
  return batch;
}

function copyBlock(split: PackedSplit, block: number, blockSize: number, batch: Batch, row: number): void {
  const start = split.blockStarts[block];
  const at = row * blockSize;
  batch.inputs.set(split.ids.subarray(start, start + blockSize), at);
  batch.targets.set(split.ids.subarray(start + 1, start + 1 + blockSize), at);
  if (batch.mask && split.mask) batch.mask.set(split.mask.subarray(start + 1, start + 1 + blockSize), at);
}
