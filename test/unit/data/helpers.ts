// Shared fixtures for the data pipeline tests: a temp folder per test and a character tokenizer.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import type { DataTokenizer } from '../../../electron/core/data/index.js';

/** One token per Unicode code point, so expected ids can be worked out by hand; eos defaults to 0. */
export function charTokenizer(eosId: number | null = 0): DataTokenizer & { calls: string[] } {
  const calls: string[] = [];
  return {
    eosId,
    calls,
    encode(text: string) {
      calls.push(text);
      return Array.from(text, (c) => c.codePointAt(0)!);
    },
  };
}

export function codes(text: string): number[] {
  return Array.from(text, (c) => c.codePointAt(0)!);
}

/** A fresh temp folder for each test; `write` creates files (and folders) inside it. */
export function useTempDir() {
  let root = '';
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'fas-data-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });
  return {
    path: (...parts: string[]) => join(root, ...parts),
    async write(relative: string, content: string | Uint8Array): Promise<string> {
      const path = join(root, relative);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content);
      return path;
    },
  };
}

export function jsonl(records: unknown[]): string {
  return records.map((record) => JSON.stringify(record)).join('\n') + '\n';
}
