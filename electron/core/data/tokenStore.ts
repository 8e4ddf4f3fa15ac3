// Growable, compact storage for the token ids of a whole corpus: the text itself is never kept.
import { DataError } from './errors.js';

/** Token ids; 16-bit while every id fits (most vocabularies do), which halves the memory. */
export type TokenIds = Uint16Array | Int32Array;

/** Everything collected: ids, loss mask (null when every token is trained) and document ends. */
export interface CollectedTokens {
  ids: TokenIds;
  mask: Uint8Array | null;
  /** docEnds[i] is the exclusive end of document i; document i starts at docEnds[i - 1] (or 0). */
  docEnds: Uint32Array;
}

const MAX_ID = 0x7fffffff;

export class TokenStore {
  private ids: TokenIds = new Uint16Array(1 << 16);
  private mask: Uint8Array | null = null; // allocated on the first untrained token
  private length = 0;
  private docEnds = new Uint32Array(1 << 10);
  private docCount = 0;

  get tokenCount(): number {
    return this.length;
  }

  get documentCount(): number {
    return this.docCount;
  }

  /** Tokens added since the last finished document. */
  get openDocumentLength(): number {
    return this.length - (this.docCount > 0 ? this.docEnds[this.docCount - 1] : 0);
  }

  /** Appends ids to the open document; `trained` false keeps them out of the loss (a prompt). */
  append(ids: readonly number[], trained: boolean): void {
    this.reserve(this.length + ids.length);
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id > MAX_ID) {
        throw new DataError('tokenizer', `The tokenizer returned ${id}, which is not a token id (a whole number from 0 to ${MAX_ID}).`);
      }
      if (id > 0xffff && this.ids instanceof Uint16Array) this.ids = Int32Array.from(this.ids);
      this.ids[this.length++] = id;
    }
    if (!trained && ids.length > 0) {
      this.mask ??= new Uint8Array(this.ids.length).fill(1);
      this.mask.fill(0, this.length - ids.length, this.length);
    }
  }

  /** Closes the open document; an empty one is not counted. */
  endDocument(): void {
    if (this.openDocumentLength === 0) return;
    if (this.docCount === this.docEnds.length) this.docEnds = grow(this.docEnds, this.docCount * 2);
    this.docEnds[this.docCount++] = this.length;
  }

  /** The collected tokens, trimmed to length; the store must not be used afterwards. */
  finish(): CollectedTokens {
    this.endDocument();
    return {
      ids: this.ids.subarray(0, this.length),
      mask: this.mask?.subarray(0, this.length) ?? null,
      docEnds: this.docEnds.subarray(0, this.docCount),
    };
  }

  private reserve(needed: number): void {
    if (needed <= this.ids.length) return;
    const capacity = Math.max(needed, this.ids.length * 2);
    this.ids = grow(this.ids, capacity);
    if (this.mask) this.mask = grow(this.mask, capacity).fill(1, this.length);
  }
}

function grow<T extends Uint8Array | Uint16Array | Uint32Array | Int32Array>(array: T, capacity: number): T {
  const bigger = new (array.constructor as new (length: number) => T)(capacity);
  bigger.set(array);
  return bigger;
}
