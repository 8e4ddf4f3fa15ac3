// Helpers for writes that must never leave a half-written file or folder behind: write to a
// temporary name in the same folder (so rename stays on one file system), flush, then rename.
import { open, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** A unique hidden name next to `path`, e.g. `.model.safetensors.tmp-1a2b3c4d`. */
export function siblingPath(path: string, tag: 'tmp' | 'old'): string {
  return join(dirname(path), `.${basename(path)}.${tag}-${randomBytes(4).toString('hex')}`);
}

/** Bytes the writes below may still write before failing as a full disk would (tests only); null = no limit. */
let simulatedSpaceLeft: number | null = null;

/** Makes writeAll fail with ENOSPC once `bytes` more bytes are written (null lifts the limit): a full disk, for tests. */
export function simulateDiskSpaceForTesting(bytes: number | null): void {
  simulatedSpaceLeft = bytes;
}

export class DiskFullError extends Error {
  readonly code = 'ENOSPC';
  constructor() {
    super('The disk is full, so the save could not finish. What was saved before is kept; free some space, then try again (or resume).');
    this.name = 'DiskFullError';
  }
}

/** Writes the whole buffer; a single write call may write less than asked for. */
export async function writeAll(handle: FileHandle, data: Uint8Array): Promise<void> {
  const chunk = 64 * 1024 * 1024;
  for (let done = 0; done < data.byteLength;) {
    let end = Math.min(done + chunk, data.byteLength);
    if (simulatedSpaceLeft !== null) end = Math.min(end, done + simulatedSpaceLeft);
    if (end === done) throw new DiskFullError();
    try {
      const { bytesWritten } = await handle.write(data, done, end - done);
      done += bytesWritten;
      if (simulatedSpaceLeft !== null) simulatedSpaceLeft -= bytesWritten;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw code === 'ENOSPC' || code === 'EDQUOT' ? new DiskFullError() : err;
    }
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
