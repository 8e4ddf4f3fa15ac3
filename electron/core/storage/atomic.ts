// Helpers for writes that must never leave a half-written file or folder behind: write to a
// temporary name in the same folder (so rename stays on one file system), flush, then rename.
import { open, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** A unique hidden name next to `path`, e.g. `.model.safetensors.tmp-1a2b3c4d`. */
export function siblingPath(path: string, tag: 'tmp' | 'old'): string {
  return join(dirname(path), `.${basename(path)}.${tag}-${randomBytes(4).toString('hex')}`);
}

/** Writes the whole buffer; a single write call may write less than asked for. */
export async function writeAll(handle: FileHandle, data: Uint8Array): Promise<void> {
  const chunk = 64 * 1024 * 1024;
  for (let done = 0; done < data.byteLength; ) {
    const end = Math.min(done + chunk, data.byteLength);
    const { bytesWritten } = await handle.write(data, done, end - done);
    done += bytesWritten;
  }
}

/** Creates `path` (which must not exist), writes `data` and flushes it to disk. */
export async function writeNewFileDurably(path: string, data: Uint8Array): Promise<void> {
  const handle = await open(path, 'wx');
  try {
    await writeAll(handle, data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Flushes a folder's entries (a rename is durable only once its folder is). */
export async function fsyncDir(dir: string): Promise<void> {
  // Windows cannot open a folder as a file; NTFS journals renames itself.
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
