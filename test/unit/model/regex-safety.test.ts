import { describe, expect, it } from 'vitest';
import { hasNestedQuantifier, tokenizerRegexes } from '../../../electron/core/model/regex-safety.js';

describe('tokenizer regex safety', () => {
  it('accepts the patterns of the supported families', () => {
    const gpt2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
    const qwen2 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    const llama3 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    for (const p of [gpt2, qwen2, llama3, '(ab)+', '(a|b)*c', '[(+]+', '\\(a+\\)+', '(a{2})+', '(a?)+b']) expect(hasNestedQuantifier(p), p).toBe(false);
  });

  it('refuses groups that repeat something repeating', () => {
    for (const p of ['(a+)+', '(\\w*\\s?)*$', '((ab)*c)+', '(a+){2,}', '(?:x|y+){1,100}', '(a[b]+)*']) expect(hasNestedQuantifier(p), p).toBe(true);
  });

  it('finds every pattern of a tokenizer.json', () => {
    const json = {
      normalizer: { type: 'Replace', pattern: { Regex: 'a+' } },
      pre_tokenizer: { type: 'Sequence', pretokenizers: [{ pattern: { Regex: 'b' } }, { pattern: { String: 'c' } }] },
      model: { vocab: { Regex: 0 } },
    };
    expect(tokenizerRegexes(json)).toEqual(['a+', 'b']);
  });
});
