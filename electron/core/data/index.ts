// The data pipeline's public surface; the rest of the app imports from here.
export { TrainBatches, validationBatches, validationBlocks } from './batches.js';
export type { Batch, BatchCursor } from './batches.js';
export { shippedCorpora } from './corpora.js';
export type { ShippedCorpus } from './corpora.js';
export { loadJobDataset, loadTokenDataset } from './dataset.js';
export type { DatasetOptions, DatasetStats, PackedSplit, TokenDataset } from './dataset.js';
export { DataError } from './errors.js';
export type { DataErrorCode } from './errors.js';
export type { DataTokenizer } from './tokenizer.js';
