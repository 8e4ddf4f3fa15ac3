// Opens a Hugging Face model folder chosen by the user: checks it in the order a person would fix
// it, and returns everything the engine and the UI need without reading any tensor data.
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { NativeModelSpec } from '../../../native/index.js';
import { INDEX_FILE, SINGLE_FILE, readCheckpoint } from './checkpoint.js';
import { parseModelConfig, type ModelConfig } from './config.js';
import { ModelFolderError, type ModelFolderReason } from './errors.js';
import { buildModelSpec } from './mapping.js';
import { SafetensorsError } from './safetensors.js';
import { summarizeModel, type ModelSummary } from './summary.js';
import { checkTokenizerVocabulary, loadTokenizer, type TextTokenizer, type TokenizerFiles } from './tokenizer.js';

export interface OpenedModelFolder {
  /** Absolute path of the folder. */
  dir: string;
  config: ModelConfig;
  spec: NativeModelSpec;
  /** The tensor-name prefix of its checkpoint, kept when a derived model is written. */
  prefix: string;
  tokenizerFiles: TokenizerFiles;
  /** The folder's tokenizer, already loaded and probed (checkTokenizerVocabulary). */
  tokenizer: TextTokenizer;
  summary: ModelSummary;
  /** Things worth telling the user that do not stop the model from loading. */
  warnings: string[];
}

const PICKLE_WEIGHTS = /\.(bin|pt|pth|ckpt)$/i;
const OTHER_WEIGHTS = /\.(gguf|h5|msgpack|onnx)$/i;
// Pickled files that sit beside safetensors weights in many folders but hold no weights.
const NOT_WEIGHTS = new Set(['training_args.bin', 'optimizer.pt', 'scheduler.pt', 'rng_state.pth']);

export async function openModelFolder(dir: string): Promise<OpenedModelFolder> {
  const folder = resolve(dir);
  const info = await stat(folder).catch(() => null);
  if (!info) throw new ModelFolderError('not-a-folder', `${folder} does not exist.`);
  if (!info.isDirectory()) {
    throw new ModelFolderError('not-a-folder', `${folder} is a file, not a folder. Choose the folder that holds config.json.`);
  }
  const names = new Set(await readdir(folder));

  if (!names.has('config.json')) {
    throw new ModelFolderError('missing-config', `${folder} has no config.json, so it is not a Hugging Face model folder (or its download is incomplete).`);
  }
  const configFile = join(folder, 'config.json');
  const config = parseModelConfig(await readJson(configFile, 'invalid-config'), configFile);

  if (!names.has(SINGLE_FILE) && !names.has(INDEX_FILE)) throw noSafetensors(folder, [...names].sort());
  if (!names.has('tokenizer.json')) {
    throw new ModelFolderError(
      'missing-tokenizer',
      `${folder} has no tokenizer.json. If it has vocab.json/merges.txt or tokenizer.model instead, create ` +
        'tokenizer.json once with Python: AutoTokenizer.from_pretrained(folder).save_pretrained(folder) ' +
        '(from transformers; the fast tokenizer writes tokenizer.json).',
    );
  }

  const checkpoint = await readCheckpoint(folder).catch((error: unknown) => {
    if (!(error instanceof SafetensorsError)) throw error;
    throw new ModelFolderError('corrupt-weights', `${error.message}. The file is damaged or is not a safetensors file; download or export it again.`, {
      cause: error,
    });
  });
  const { spec, prefix, warnings } = buildModelSpec(config, checkpoint);

  const optional = (name: string) => (names.has(name) ? join(folder, name) : null);
  const tokenizerFiles: TokenizerFiles = {
    tokenizerJson: join(folder, 'tokenizer.json'),
    tokenizerConfig: optional('tokenizer_config.json'),
    specialTokensMap: optional('special_tokens_map.json'),
  };
  const tokenizer = await loadTokenizer(tokenizerFiles, config);
  checkTokenizerVocabulary(tokenizer, tokenizerFiles.tokenizerJson, config.vocabSize);
  if (!tokenizerFiles.tokenizerConfig) {
    warnings.push('The folder has no tokenizer_config.json; special tokens are taken from config.json.');
  }
  return { dir: folder, config, spec, prefix, tokenizerFiles, tokenizer, summary: summarizeModel(config, spec), warnings };
}

/** Reads a JSON file, turning a parse error into a message that names the file. */
export async function readJson(file: string, reason: ModelFolderReason): Promise<unknown> {
  const text = await readFile(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ModelFolderError(reason, `${file} is not valid JSON (${(error as Error).message}).`);
  }
}

function noSafetensors(folder: string, names: string[]): ModelFolderError {
  const pickles = names.filter((name) => PICKLE_WEIGHTS.test(name) && !NOT_WEIGHTS.has(name));
  if (pickles.length > 0) {
    return new ModelFolderError(
      'pickle-only',
      `${folder} has its weights only as ${pickles.join(', ')}: PyTorch pickle files, which can run arbitrary code ` +
        'when they are loaded, so this app does not open them. Convert the folder once, with Python, for a model ' +
        'you trust: AutoModelForCausalLM.from_pretrained(folder).save_pretrained(folder, safe_serialization=True) ' +
        '(from transformers). That writes model.safetensors next to the old files.',
    );
  }
  const others = names.filter((name) => OTHER_WEIGHTS.test(name));
  const found = others.length > 0 ? ` It has ${others.join(', ')}, a format this app does not read.` : '';
  return new ModelFolderError('missing-weights', `${folder} has no weights in safetensors format (${SINGLE_FILE} or ${INDEX_FILE}).${found}`);
}
