import { describe, expect, it } from 'vitest';
import { trainByteLevelBpe, trainTokenizerJson } from '../../../electron/core/demo/bpe-trainer.js';
import { TextTokenizer } from '../../../electron/core/model/tokenizer.js';

const corpus = ['the cat sat on the mat. the cat ate.', 'then the theory of the thing. Café, naïve — 東京!'];

describe('byte-level BPE trainer', () => {
  it('learns the most frequent pairs first, deterministically', () => {
    const a = trainByteLevelBpe(corpus, 270);
    // Counted by hand: "t h" occurs 8 times (the, then, theory, thing, with and without the leading
    // space "Ġ"), then "th e" 7 times, "a t" 5 (cat x2, sat, mat, ate)...; pairs seen once never merge.
    expect(a.merges).toEqual(['t h', 'th e', 'a t', 'Ġ the', 'c at', 'Ġ cat', 'Ġ o']);
    expect(a.vocab['the']).toBe(257);
    expect(trainByteLevelBpe(corpus, 270)).toEqual(a);
  });

  it('stops when no pair occurs twice', () => {
    const { merges } = trainByteLevelBpe(['abcdef'], 1000);
    expect(merges).toEqual([]);
  });

  it('makes a tokenizer.json that encodes and decodes any text exactly', () => {
    const json = trainTokenizerJson(corpus, 300);
    const tokenizer = new TextTokenizer({ tokenizerJson: json, tokenizerConfig: { eos_token: '<|endoftext|>' } });
    expect(tokenizer.eosId).toBe(Object.keys(json.model.vocab).length - 1);
    for (const text of [...corpus, 'unseen words 🙂 and\nnew lines\t tabs']) {
      const ids = tokenizer.encode(text, { addSpecialTokens: false });
      expect(tokenizer.decode(ids)).toBe(text);
      expect(Math.max(...ids)).toBeLessThan(300);
    }
    // Learned merges make common words shorter than their bytes.
    expect(tokenizer.encode(' the cat', { addSpecialTokens: false }).length).toBeLessThan(' the cat'.length);
  });
});
