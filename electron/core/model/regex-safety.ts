// tokenizer.json can carry regular expressions (Split pre-tokenizers, Replace normalizers) that the
// tokenizer runs on every text. A pattern with a quantified group that itself holds a quantifier,
// such as (a+)+ or (\w*\s?)*, can backtrack exponentially on a crafted or merely unlucky text and
// freeze the process, so such patterns are refused before the tokenizer is built. No tokenizer of a
// supported model family uses one (GPT-2, LLaMA 3, Qwen2 and SmolLM patterns are all star height 1).

/** Every pattern string under a {"Regex": "..."} key in a tokenizer.json object. */
export function tokenizerRegexes(json: unknown, depth = 0): string[] {
  if (depth > 64 || typeof json !== 'object' || json === null) return [];
  if (Array.isArray(json)) return json.flatMap((item) => tokenizerRegexes(item, depth + 1));
  const found: string[] = [];
  for (const [key, value] of Object.entries(json)) {
    if (key === 'Regex' && typeof value === 'string') found.push(value);
    // The vocabulary and merges hold no patterns and are by far the largest parts.
    else if (key !== 'vocab' && key !== 'merges') found.push(...tokenizerRegexes(value, depth + 1));
  }
  return found;
}

/** True when a group that can repeat without bound contains something that can repeat too. */
export function hasNestedQuantifier(pattern: string): boolean {
  // For each open group: whether something inside it repeats.
  const groups: boolean[] = [false];
  let i = 0;
  const unboundedAt = (at: number): number => {
    // Length of an unbounded quantifier starting at `at` (*, +, {n,} or {n,m} with m > 1), else 0.
    const c = pattern[at];
    if (c === '*' || c === '+') return 1;
    const braces = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(at));
    if (!braces || braces[2] === undefined) return 0;
    return braces[3] === '' || Number(braces[3]) > 1 ? braces[0].length : 0;
  };
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === '\\') {
      i += 2;
    } else if (c === '[') {
      // A character class is one atom: skip to its closing bracket.
      i += 1;
      if (pattern[i] === '^') i += 1;
      if (pattern[i] === ']') i += 1;
      while (i < pattern.length && pattern[i] !== ']') i += pattern[i] === '\\' ? 2 : 1;
      i += 1;
    } else if (c === '(') {
      groups.push(false);
      i += 1;
    } else if (c === ')') {
      const inner = groups.length > 1 ? groups.pop()! : false;
      i += 1;
      const q = unboundedAt(i);
      if (q > 0 && inner) return true;
      groups[groups.length - 1] ||= inner || q > 0;
      i += q;
    } else {
      const q = unboundedAt(i);
      if (q > 0) groups[groups.length - 1] = true;
      i += Math.max(q, 1);
    }
  }
  return false;
}
