// Writes a model folder in Hugging Face layout (so transformers can load it too), all or nothing:
// everything goes into a temporary folder beside the target, which is then renamed into place. The
// folder carries the app's mark, and only an empty or marked folder is ever replaced (storage/owned-folder).
import { stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { writeNewFileDurably } from '../storage/atomic.js';
import { OWNER_MARK, writeFolderAtomically } from '../storage/owned-folder.js';
import { INDEX_FILE, SINGLE_FILE } from './checkpoint.js';
import { DTYPE_BYTES } from './dtype.js';
import { ModelFolderError } from './errors.js';
import { writeSafetensors, type WritableTensor } from './safetensors.js';

export interface ModelFolderContents {
  config: Record<string, unknown>;
  /** Tensors under their Hugging Face names. */
  tensors: Record<string, WritableTensor>;
  tokenizerJson: unknown;
  tokenizerConfig: Record<string, unknown>;
  /** More files by plain file name (e.g. generation_config.json), as text or bytes. */
  extraFiles?: Record<string, string | Uint8Array>;
  /** More safetensors files by plain file name (e.g. spiking.safetensors), written in the same swap. */
  extraTensorFiles?: Record<string, Record<string, WritableTensor>>;
  /** String metadata (the safetensors header's __metadata__) of extra safetensors files, by file name. */
  extraTensorMetadata?: Record<string, Record<string, string>>;
  /** Split the weights into shards of at most this many bytes, with an index, as transformers does. */
  maxShardBytes?: number;
}

const RESERVED = new Set([OWNER_MARK, 'config.json', 'tokenizer.json', 'tokenizer_config.json', SINGLE_FILE, INDEX_FILE]);
const SHARD_NAME = /^model-\d+-of-\d+\.safetensors$/;

/** Writes (or replaces) the folder `dir`. On failure the previous folder, if any, is left as it was. */
export async function writeModelFolder(dir: string, contents: ModelFolderContents): Promise<void> {
  const target = resolve(dir);
  for (const name of [...Object.keys(contents.extraFiles ?? {}), ...Object.keys(contents.extraTensorFiles ?? {})]) {
    const plain = name === basename(name) && name !== '..' && name !== '.';
    if (!plain || RESERVED.has(name) || SHARD_NAME.test(name)) {
      throw new ModelFolderError('write-failed', `Cannot write extra file "${name}" into ${target}: use a plain file name that the model files do not use.`);
    }
  }
  const existing = await stat(target).catch(() => null);
  if (existing && !existing.isDirectory()) {
    throw new ModelFolderError('write-failed', `Cannot write a model folder at ${target}: a file with that name exists.`);
  }

  await writeFolderAtomically(target, (temp) => fillFolder(temp, contents));
}

async function fillFolder(folder: string, contents: ModelFolderContents): Promise<void> {
  const json = (value: unknown) => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);
  await writeNewFileDurably(join(folder, 'config.json'), json(contents.config));
  await writeNewFileDurably(join(folder, 'tokenizer.json'), json(contents.tokenizerJson));
  await writeNewFileDurably(join(folder, 'tokenizer_config.json'), json(contents.tokenizerConfig));
  for (const [name, data] of Object.entries(contents.extraFiles ?? {})) {
    await writeNewFileDurably(join(folder, name), typeof data === 'string' ? new TextEncoder().encode(data) : data);
  }
  for (const [name, tensors] of Object.entries(contents.extraTensorFiles ?? {})) {
    await writeSafetensors(join(folder, name), tensors, contents.extraTensorMetadata?.[name]);
  }

  // transformers refuses safetensors files whose metadata does not name the framework.
  const metadata = { format: 'pt' };
  const shards = splitIntoShards(contents.tensors, contents.maxShardBytes ?? Infinity);
  if (shards.length === 1) {
    await writeSafetensors(join(folder, SINGLE_FILE), contents.tensors, metadata);
    return;
  }
  const weightMap: Record<string, string> = {};
  let totalSize = 0;
  for (const [i, shard] of shards.entries()) {
    const file = `model-${number(i + 1)}-of-${number(shards.length)}.safetensors`;
    await writeSafetensors(join(folder, file), shard, metadata);
    for (const [name, tensor] of Object.entries(shard)) {
      weightMap[name] = file;
      totalSize += tensor.data.length * DTYPE_BYTES[tensor.dtype];
    }
  }
  await writeNewFileDurably(join(folder, INDEX_FILE), json({ metadata: { total_size: totalSize }, weight_map: weightMap }));
}

/** Shard numbers as transformers writes them: five digits. */
function number(n: number): string {
  return String(n).padStart(5, '0');
}

/** Fills shards in name order, starting a new one when the next tensor would not fit. */
function splitIntoShards(tensors: Record<string, WritableTensor>, maxBytes: number): Record<string, WritableTensor>[] {
  const shards: Record<string, WritableTensor>[] = [{}];
  let size = 0;
  for (const name of Object.keys(tensors).sort()) {
    const tensor = tensors[name];
    const bytes = tensor.data.length * DTYPE_BYTES[tensor.dtype];
    if (size > 0 && size + bytes > maxBytes) {
      shards.push({});
      size = 0;
    }
    shards[shards.length - 1][name] = tensor;
    size += bytes;
  }
  return shards;
}
