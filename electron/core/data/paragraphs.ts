// Regroups decoded text into pieces that end at paragraph breaks before they reach the tokenizer:
// memory stays bounded by the piece size, and words are not cut in two between encode() calls.

/** Yields the text of `chunks` again, as pieces of roughly `size` characters or more. */
export async function* paragraphPieces(chunks: AsyncIterable<string>, size: number): AsyncGenerator<string> {
  let pending = '';
  for await (const chunk of chunks) {
    pending += chunk;
    while (pending.length >= size) {
      const cut = cutPoint(pending, size);
      yield pending.slice(0, cut);
      pending = pending.slice(cut);
    }
  }
  if (pending.length > 0) yield pending;
}

/** Where to cut `text`: after its last blank line, else its last line break, else its last space. */
function cutPoint(text: string, size: number): number {
  const paragraph = text.lastIndexOf('\n\n');
  if (paragraph > 0) return paragraph + 2;
  const line = text.lastIndexOf('\n');
  if (line > 0) return line + 1;
  const space = text.lastIndexOf(' ');
  if (space > 0) return space + 1;
  // One huge word: cut at the size, but never between the two halves of a surrogate pair.
  const code = text.charCodeAt(size - 1);
  return code >= 0xd800 && code <= 0xdbff ? size + 1 : size;
}
