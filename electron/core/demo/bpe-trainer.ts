// Trains a byte-level BPE vocabulary (GPT-2's scheme: same pre-tokenizer regex, same byte-to-
// character table), so the demo model can have a small vocabulary fitted to its corpus instead of
// GPT-2's 50,257 tokens, whose embedding alone would dwarf a few-million-parameter model.
import { byteLevelTokenizerJson, bytesToUnicode, GPT2_END_OF_TEXT } from '../model/gpt2-tokenizer.js';

/** GPT-2's pre-tokenizer: contractions, letters, numbers, other symbols, whitespace. */
const PRE_TOKENIZE = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

export interface BpeVocabulary {
  /** token string (in byte-level characters) -> id; ids 0..255 are the single bytes. */
  vocab: Record<string, number>;
  /** "left right" merges, in the order they were learned (the order BPE applies them). */
  merges: string[];
}

interface Word {
  symbols: string[];
  count: number;
}

const pairKey = (a: string, b: string) => `${a} ${b}`;

/**
 * Learns merges until the vocabulary has `vocabSize` tokens (bytes + merges), or no pair occurs
 * twice. Deterministic: ties go to the lexicographically smallest pair.
 */
export function trainByteLevelBpe(texts: Iterable<string>, vocabSize: number): BpeVocabulary {
  const byteChars = bytesToUnicode();
  const encoder = new TextEncoder();
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const match of text.matchAll(PRE_TOKENIZE)) {
      const word = Array.from(encoder.encode(match[0]), (b) => byteChars[b]).join('');
      counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  }
  const words: Word[] = [...counts].map(([w, count]) => ({ symbols: [...w], count }));

  // Pair statistics, kept up to date incrementally: pair -> total count, pair -> words containing it,
  // and a heap of (count, pair) entries where stale entries are skipped when popped.
  const pairCounts = new Map<string, number>();
  const pairWords = new Map<string, Set<number>>();
  const heap = new PairHeap();
  const touched = new Set<string>();
  const addPairs = (index: number, sign: 1 | -1) => {
    const { symbols, count } = words[index]!;
    for (let i = 0; i + 1 < symbols.length; i++) {
      const key = pairKey(symbols[i]!, symbols[i + 1]!);
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + sign * count);
      touched.add(key);
      if (sign > 0) {
        let set = pairWords.get(key);
        if (!set) pairWords.set(key, (set = new Set()));
        set.add(index);
      }
    }
  };
  const pushTouched = () => {
    for (const key of touched) heap.push(pairCounts.get(key) ?? 0, key);
    touched.clear();
  };
  words.forEach((_, i) => addPairs(i, 1));
  pushTouched();

  const vocab: Record<string, number> = {};
  byteChars.forEach((char, byte) => (vocab[char] = byte));
  const merges: string[] = [];
  while (256 + merges.length < vocabSize) {
    const best = heap.popBest(pairCounts);
    if (best === null) break;
    const [left, right] = best.split(' ') as [string, string];
    const merged = left + right;
    for (const index of pairWords.get(best) ?? []) {
      const word = words[index]!;
      addPairs(index, -1);
      const next: string[] = [];
      for (let i = 0; i < word.symbols.length; i++) {
        if (word.symbols[i] === left && word.symbols[i + 1] === right) {
          next.push(merged);
          i++;
        } else next.push(word.symbols[i]!);
      }
      word.symbols = next;
      addPairs(index, 1);
    }
    pairCounts.delete(best);
    pairWords.delete(best);
    touched.delete(best);
    pushTouched();
    vocab[merged] = 256 + merges.length;
    merges.push(best);
  }
  return { vocab, merges };
}

/**
 * A tokenizer.json (GPT-2 byte-level BPE format, loadable by any Hugging Face tokenizer) trained on
 * `texts`, with <|endoftext|> as the last of `vocabSize` ids.
 */
export function trainTokenizerJson(texts: Iterable<string>, vocabSize: number) {
  const { vocab, merges } = trainByteLevelBpe(texts, vocabSize - 1);
  const endOfTextId = 256 + merges.length;
  return byteLevelTokenizerJson({ ...vocab, [GPT2_END_OF_TEXT]: endOfTextId }, merges, endOfTextId);
}

/** Max-heap on (count, then the smaller pair string), with lazy deletion of outdated entries. */
class PairHeap {
  private readonly items: Array<{ count: number; key: string }> = [];

  push(count: number, key: string): void {
    if (count < 2) return; // a pair seen once is never merged
    this.items.push({ count, key });
    let i = this.items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** The best pair whose entry still matches its current count, or null. */
  popBest(current: Map<string, number>): string | null {
    while (this.items.length > 0) {
      const top = this.items[0]!;
      const last = this.items.pop()!;
      if (this.items.length > 0) {
        this.items[0] = last;
        this.siftDown(0);
      }
      if (current.get(top.key) === top.count) return top.key;
    }
    return null;
  }

  private siftDown(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < this.items.length && this.before(l, best)) best = l;
      if (r < this.items.length && this.before(r, best)) best = r;
      if (best === i) return;
      this.swap(i, best);
      i = best;
    }
  }

  private before(a: number, b: number): boolean {
    const x = this.items[a]!;
    const y = this.items[b]!;
    return x.count > y.count || (x.count === y.count && x.key < y.key);
  }

  private swap(a: number, b: number): void {
    [this.items[a], this.items[b]] = [this.items[b]!, this.items[a]!];
  }
}
