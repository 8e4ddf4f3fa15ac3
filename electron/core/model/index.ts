// The model loader's public surface.
export { ModelFolderError, type ModelFolderReason } from './errors.js';
export { openModelFolder, type OpenedModelFolder } from './folder.js';
export { parseModelConfig, SUPPORTED_MODEL_TYPES, type ModelConfig, type ModelType } from './config.js';
export { readCheckpoint, type Checkpoint } from './checkpoint.js';
export { buildModelSpec, type MappedModel } from './mapping.js';
export { summarizeModel, type ModelSummary } from './summary.js';
export {
  SafetensorsError,
  readSafetensorsHeader,
  readTensorBytes,
  writeSafetensors,
  type SafetensorsHeader,
  type SafetensorsTensor,
  type WritableTensor,
} from './safetensors.js';
export { decodeFloats, roundToDType, type FloatDType } from './dtype.js';
export { TextTokenizer, StreamDetokenizer, loadTokenizer, type TokenizerFiles, type ConfigTokenIds } from './tokenizer.js';
export { gpt2TokenizerJson, gpt2TokenizerConfig, byteTokenizerJson, byteTokenizerConfig, GPT2_END_OF_TEXT_ID, BYTE_END_OF_TEXT_ID } from './gpt2-tokenizer.js';
export { writeModelFolder, type ModelFolderContents } from './writer.js';
