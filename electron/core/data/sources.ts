// What a wizard offers as training data: the bundled corpora that are installed, and a check of
// a path the user typed, done before a long job starts rather than minutes into it.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { DataCheck, TrainingCorpus } from '../../api/contract.js';
import { ApiError } from '../api/errors.js';
import { shippedCorpora } from './corpora.js';
import { DataError } from './errors.js';
import { listInputFiles } from './files.js';

export function trainingCorpora(): TrainingCorpus[] {
  return shippedCorpora().flatMap(({ id, title, description, dataDir }) => (dataDir ? [{ id, title, description, path: dataDir }] : []));
}

/** The files the path stands for, read the way training reads them; a refusal says why in words. */
export async function checkTrainingData(path: string): Promise<DataCheck> {
  const absolute = resolve(path);
  try {
    const input = await listInputFiles(absolute);
    const sizes = await Promise.all(input.files.map(async (file) => (await stat(file)).size));
    const bytes = sizes.reduce((a, b) => a + b, 0);
    if (bytes === 0) throw new ApiError('bad_request', `${absolute} holds no text: ${input.files.length === 1 ? 'the file is' : 'its files are'} empty.`);
    return { path: absolute, format: input.kind, files: input.files.length, bytes };
  } catch (err) {
    if (err instanceof DataError) throw new ApiError('bad_request', err.message);
    throw err;
  }
}
