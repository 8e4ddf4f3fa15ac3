// What a wizard offers as training data: the bundled corpora that are installed, and a check of
// a path the user typed, done before a long job starts rather than minutes into it.
import { open, stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import type { DataCheck, TrainingCorpus } from '../../api/contract.js';
import { ApiError } from '../api/errors.js';
import { expandHome } from '../storage/home-path.js';
import { shippedCorpora } from './corpora.js';
import { DataError } from './errors.js';
import { listInputFiles } from './files.js';

export function trainingCorpora(): TrainingCorpus[] {
  return shippedCorpora().flatMap(({ id, title, description, dataDir }) => (dataDir ? [{ id, title, description, path: dataDir }] : []));
}

/** The files the path stands for, read the way training reads them; a refusal says why in words. */
export async function checkTrainingData(path: string): Promise<DataCheck> {
  const absolute = resolve(expandHome(path));
  try {
    const input = await listInputFiles(absolute);
    const sizes = await Promise.all(input.files.map(async (file) => (await stat(file)).size));
    const bytes = sizes.reduce((a, b) => a + b, 0);
    if (bytes === 0) throw new ApiError('bad_request', `${absolute} holds no text: ${input.files.length === 1 ? 'the file is' : 'its files are'} empty.`);
    const binary = (await Promise.all(input.files.map(async (file) => ((await looksBinary(file)) ? file : null)))).find((file) => file !== null);
    if (binary) {
      throw new ApiError(
        'bad_request',
        `${binary} is not text: it holds binary data (${extname(binary) === '.safetensors' ? 'model weights' : 'zero bytes or bytes that are not UTF-8 text'}). ` +
          'Choose a .txt, .md or .jsonl file, or a folder of them.',
      );
    }
    return { path: absolute, format: input.kind, files: input.files.length, bytes };
  } catch (err) {
    if (err instanceof DataError) throw new ApiError('bad_request', err.message);
    throw err;
  }
}

/** How much of a file is looked at to tell text from binary data. */
const SNIFF_BYTES = 64 * 1024;

/** The file's start has a zero byte or is not UTF-8: binary data (weights, archives, images), not text. */
async function looksBinary(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0);
    const start = buffer.subarray(0, bytesRead);
    if (start.includes(0)) return true;
    try {
      // Streaming: a character cut at the end of the sample is not an error.
      new TextDecoder('utf-8', { fatal: true }).decode(start, { stream: true });
      return false;
    } catch {
      return true;
    }
  } finally {
    await handle.close();
  }
}
