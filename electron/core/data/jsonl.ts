// Parses JSONL training records line by line from a stream of decoded text.
import { DataError } from './errors.js';
import type { ByteBudget } from './read.js';

/** A document to train on whole, or a prompt whose completion alone is trained on. */
export type JsonlRecord = { text: string } | { prompt: string; completion: string };

/**
 * Yields one record per non-blank line. A last line cut short by the byte budget is dropped rather
 * than reported, since it is the budget and not the file that broke it.
 */
export async function* jsonlRecords(file: string, chunks: AsyncIterable<string>, budget: ByteBudget): AsyncGenerator<JsonlRecord> {
  let pending = '';
  let lineNumber = 0;
  for await (const chunk of chunks) {
    pending += chunk;
    let start = 0;
    for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n', start)) {
      lineNumber++;
      const record = parseLine(pending.slice(start, end), file, lineNumber);
      if (record) yield record;
      start = end + 1;
    }
    pending = pending.slice(start);
  }
  if (budget.truncated) return;
  const record = parseLine(pending, file, lineNumber + 1);
  if (record) yield record;
}

const EXPECTED = 'expected {"text": "..."} or {"prompt": "...", "completion": "..."}';

function parseLine(line: string, file: string, lineNumber: number): JsonlRecord | null {
  const trimmed = line.trim(); // also drops the \r of Windows line ends
  if (trimmed.length === 0) return null;
  const where = `${file} line ${lineNumber}`;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (error) {
    throw new DataError('jsonl', `${where} is not valid JSON (${(error as Error).message}); ${EXPECTED}.`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DataError('jsonl', `${where}: ${EXPECTED}, got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}.`);
  }
  const fields = value as Record<string, unknown>;
  const isPair = 'prompt' in fields || 'completion' in fields;
  if (isPair && 'text' in fields) {
    throw new DataError('jsonl', `${where} has both "text" and "prompt"/"completion"; use one or the other.`);
  }
  if (isPair) {
    if (typeof fields.prompt !== 'string' || typeof fields.completion !== 'string') {
      throw new DataError('jsonl', `${where}: "prompt" and "completion" must both be strings.`);
    }
    return { prompt: fields.prompt, completion: fields.completion };
  }
  if (typeof fields.text !== 'string') {
    throw new DataError('jsonl', `${where}: ${EXPECTED}; "text" is ${'text' in fields ? 'not a string' : 'missing'}.`);
  }
  return { text: fields.text };
}
