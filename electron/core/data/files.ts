// Turns the user's input path into the ordered list of files to read and how to read them.
import { readdir, stat } from 'node:fs/promises';
import type { Dirent, Stats } from 'node:fs';
import { extname, join } from 'node:path';
import { DataError } from './errors.js';

export type InputKind = 'text' | 'jsonl';

export interface InputFiles {
  kind: InputKind;
  /** Absolute or caller-relative paths, in the order they are read. */
  files: string[];
}

const TEXT_EXTENSIONS = new Set(['.txt', '.md']);

/**
 * A file is read as JSONL when it ends in .jsonl and as plain text otherwise; a folder contributes
 * every .txt and .md file below it, sorted by path so every machine reads them in the same order.
 */
export async function listInputFiles(path: string): Promise<InputFiles> {
  const info = await statOrNull(path);
  if (!info) {
    throw new DataError('not-found', `Training data not found: ${path} does not exist. Check the path.`);
  }
  if (info.isFile()) {
    return { kind: extname(path).toLowerCase() === '.jsonl' ? 'jsonl' : 'text', files: [path] };
  }
  if (!info.isDirectory()) {
    throw new DataError('not-found', `Training data must be a file or a folder: ${path} is neither.`);
  }
  const files: string[] = [];
  await collectTextFiles(path, files);
  if (files.length === 0) {
    throw new DataError('no-files', `The folder ${path} has no .txt or .md files (subfolders included). Add text files, or pass a .jsonl file directly.`);
  }
  // Compare code units, not locale order, so the order is the same on every machine.
  files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { kind: 'text', files };
}

async function collectTextFiles(dir: string, out: string[]): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw new DataError('unreadable', `Cannot list the folder ${dir}: ${(error as Error).message}`);
  }
  for (const entry of entries) {
    // Hidden entries are version-control or OS files (.git, .DS_Store), never training text.
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      await collectTextFiles(path, out);
    } else if (TEXT_EXTENSIONS.has(extname(entry.name).toLowerCase())) {
      // Symbolic links to files count; links to folders are not followed, which rules out cycles.
      if (entry.isFile() || (entry.isSymbolicLink() && (await statOrNull(path))?.isFile())) out.push(path);
    }
  }
}

async function statOrNull(path: string): Promise<Stats | null> {
  try {
    return await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new DataError('unreadable', `Cannot read ${path}: ${(error as Error).message}`);
  }
}
