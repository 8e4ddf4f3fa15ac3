// Reads a file as a stream of decoded text chunks, so a corpus larger than memory never has to be
// held whole. Rejects binary files and invalid UTF-8 with the byte offset, and honours a byte budget
// shared by all files of one job.
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { TextDecoder } from 'node:util';
import { DataError } from './errors.js';
import { incompleteTailLength, invalidUtf8Offset } from './utf8.js';

/** How many bytes a job may still read; `truncated` becomes true when it stops reading early. */
export interface ByteBudget {
  limit: number;
  used: number;
  truncated: boolean;
}

export function byteBudget(limit = Infinity): ByteBudget {
  return { limit, used: 0, truncated: false };
}

/**
 * Yields the text of `file` in pieces of at most about `chunkBytes` bytes. When the budget runs out
 * mid-file it stops there (dropping a half-read character) and marks the budget truncated.
 */
export async function* readUtf8(file: string, chunkBytes: number, budget: ByteBudget): AsyncGenerator<string> {
  const handle = await openForReading(file);
  try {
    const size = (await handle.stat()).size;
    // fatal: invalid bytes throw instead of becoming U+FFFD; ignoreBOM: each decode() call starts a
    // new stream, so the decoder would otherwise strip a U+FEFF at the start of every chunk.
    const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    const buffer = Buffer.allocUnsafe(chunkBytes + 3); // + room for a carried partial character
    let carried = 0; // bytes of an unfinished character kept at the start of `buffer`
    let offset = 0; // file offset of buffer[0]
    for (;;) {
      const room = Math.min(chunkBytes, budget.limit - budget.used);
      if (room <= 0) {
        budget.truncated ||= offset + carried < size;
        return;
      }
      const { bytesRead } = await readAt(handle, file, buffer, carried, room, offset + carried);
      if (bytesRead === 0) {
        if (carried > 0) {
          throw new DataError('encoding', `${file} is not valid UTF-8: it ends in the middle of a character at byte ${offset}. Save it as UTF-8.`);
        }
        return;
      }
      budget.used += bytesRead;
      const end = carried + bytesRead;
      const nul = buffer.subarray(carried, end).indexOf(0);
      if (nul >= 0) {
        throw new DataError('binary', `${file} looks like a binary file (NUL byte at byte ${offset + carried + nul}); training data must be UTF-8 text.`);
      }
      const complete = end - incompleteTailLength(buffer.subarray(0, end));
      let text = decode(decoder, buffer.subarray(0, complete), file, offset);
      if (offset === 0 && text.startsWith('\ufeff')) text = text.slice(1);
      buffer.copyWithin(0, complete, end);
      carried = end - complete;
      offset += complete;
      if (text.length > 0) yield text;
    }
  } finally {
    await handle.close();
  }
}

function decode(decoder: TextDecoder, bytes: Uint8Array, file: string, offset: number): string {
  try {
    return decoder.decode(bytes);
  } catch {
    const at = offset + Math.max(0, invalidUtf8Offset(bytes));
    throw new DataError('encoding', `${file} is not valid UTF-8 (invalid byte at byte ${at}). Convert it to UTF-8, for example with iconv.`);
  }
}

async function openForReading(file: string): Promise<FileHandle> {
  try {
    return await open(file, 'r');
  } catch (error) {
    throw new DataError('unreadable', `Cannot open ${file}: ${(error as Error).message}`);
  }
}

async function readAt(handle: FileHandle, file: string, buffer: Buffer, at: number, length: number, position: number) {
  try {
    return await handle.read(buffer, at, length, position);
  } catch (error) {
    throw new DataError('unreadable', `Cannot read ${file} at byte ${position}: ${(error as Error).message}`);
  }
}
