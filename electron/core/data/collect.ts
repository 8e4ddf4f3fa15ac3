// Reads every input file and tokenises it into one TokenStore, document by document.
import type { InputFiles } from './files.js';
import { jsonlRecords } from './jsonl.js';
import { paragraphPieces } from './paragraphs.js';
import { readUtf8 } from './read.js';
import type { ByteBudget } from './read.js';
import type { DataTokenizer } from './tokenizer.js';
import { TokenStore } from './tokenStore.js';
import type { CollectedTokens } from './tokenStore.js';

/**
 * A text file is one document; a JSONL line is one document. Each document ends with the eos token
 * when the tokenizer has one, trained on so the model learns where text (or a completion) stops.
 */
export async function collectTokens(input: InputFiles, tokenizer: DataTokenizer, chunkBytes: number, budget: ByteBudget): Promise<CollectedTokens> {
  const store = new TokenStore();
  const endDocument = () => {
    if (store.openDocumentLength === 0) return; // nothing to separate
    if (tokenizer.eosId !== null) store.append([tokenizer.eosId], true);
    store.endDocument();
  };
  for (const file of input.files) {
    if (budget.truncated) break;
    const chunks = readUtf8(file, chunkBytes, budget);
    if (input.kind === 'text') {
      for await (const piece of paragraphPieces(chunks, chunkBytes)) store.append(tokenizer.encode(piece), true);
      endDocument();
      continue;
    }
    for await (const record of jsonlRecords(file, chunks, budget)) {
      if ('text' in record) {
        store.append(tokenizer.encode(record.text), true);
      } else {
        // Prompt and completion are encoded apart so the mask boundary falls exactly between them.
        store.append(tokenizer.encode(record.prompt), false);
        store.append(tokenizer.encode(record.completion), true);
      }
      endDocument();
    }
  }
  return store.finish();
}
