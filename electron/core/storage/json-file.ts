import { mkdir, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir, siblingPath, writeNewFileDurably } from './atomic.js';

/** Writes JSON so that a crash leaves either the old file or the new one, never half of one. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = siblingPath(path, 'tmp');
  await writeNewFileDurably(temp, Buffer.from(JSON.stringify(value, null, 2) + '\n'));
  await rename(temp, path);
  await fsyncDir(dirname(path));
}

/** Reads a JSON file, or null when it does not exist. */
export async function readJsonIfExists<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
