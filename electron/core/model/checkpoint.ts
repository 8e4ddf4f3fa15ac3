// The weights of a Hugging Face folder: one model.safetensors, or shards listed by
// model.safetensors.index.json. Either way the result is one name -> tensor map.
import { readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { ModelFolderError } from './errors.js';
import { readSafetensorsHeader, type SafetensorsTensor } from './safetensors.js';

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';

export interface Checkpoint {
  /** Absolute paths of the .safetensors files, in a stable order. */
  files: string[];
  tensors: Map<string, SafetensorsTensor>;
  /** How to name the checkpoint in messages: the single file or the index. */
  source: string;
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isFile() ?? false;
}

/** Reads the headers of a folder's weights; like transformers, a single file wins over an index. */
export async function readCheckpoint(dir: string): Promise<Checkpoint> {
  const folder = resolve(dir);
  const single = join(folder, SINGLE_FILE);
  if (await isFile(single)) {
    const header = await readSafetensorsHeader(single);
    return { files: [single], tensors: header.tensors, source: single };
  }
  const index = join(folder, INDEX_FILE);
  if (await isFile(index)) return readShardedCheckpoint(folder, index);
  throw new ModelFolderError('missing-weights', `${folder} has neither ${SINGLE_FILE} nor ${INDEX_FILE}.`);
}

async function readShardedCheckpoint(folder: string, index: string): Promise<Checkpoint> {
  const fail = (problem: string): never => {
    throw new ModelFolderError('invalid-index', `${index}: ${problem}`);
  };
  let json: unknown;
  try {
    json = JSON.parse(await readFile(index, 'utf8'));
  } catch (error) {
    fail(`not valid JSON (${(error as Error).message}). Download the file again.`);
  }
  const weightMap = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    fail('"weight_map" is missing or is not an object of tensor name -> shard file.');
  }
  const entries = Object.entries(weightMap as Record<string, unknown>);
  if (entries.length === 0) fail('"weight_map" lists no tensors.');

  const shardNames = new Set<string>();
  for (const [name, shard] of entries) {
    // Shards must be plain file names in this folder: never follow a path out of it.
    if (typeof shard !== 'string' || shard !== basename(shard) || shard === '..' || !shard.endsWith('.safetensors')) {
      fail(`tensor "${name}" points at ${JSON.stringify(shard)}, which is not a .safetensors file name in this folder.`);
    }
    shardNames.add(shard as string);
  }
  const files = [...shardNames].sort().map((shard) => join(folder, shard));
  for (const file of files) {
    if (!(await isFile(file))) fail(`shard ${basename(file)} is listed but missing from the folder. Download it again.`);
  }
  const headers = new Map<string, Map<string, SafetensorsTensor>>();
  for (const file of files) headers.set(file, (await readSafetensorsHeader(file)).tensors);

  const tensors = new Map<string, SafetensorsTensor>();
  for (const [name, shard] of entries) {
    const tensor = headers.get(join(folder, shard as string))?.get(name);
    if (!tensor) fail(`tensor "${name}" is listed in ${String(shard)} but that file does not contain it.`);
    tensors.set(name, tensor as SafetensorsTensor);
  }
  return { files, tensors, source: index };
}
