// Packing: how a token stream is cut into training blocks.

/**
 * Start offsets of the blocks of `blockSize + 1` tokens packed from a stream of `length` tokens.
 * Block k covers tokens [k·blockSize, (k+1)·blockSize + 1): its inputs are the first blockSize
 * tokens and its targets the last blockSize, so consecutive blocks share one token and every token
 * after the first is a target exactly once. The at most blockSize - 1 tokens left at the end are
 * unused. Blocks whose targets are all masked out are skipped: they carry no loss.
 */
export function packBlocks(length: number, blockSize: number, mask: Uint8Array | null): { starts: Uint32Array; skipped: number } {
  const count = length > blockSize ? Math.floor((length - 1) / blockSize) : 0;
  const starts = new Uint32Array(count);
  let kept = 0;
  for (let k = 0; k < count; k++) {
    const start = k * blockSize;
    if (mask && !mask.subarray(start + 1, start + 1 + blockSize).includes(1)) continue;
    starts[kept++] = start;
  }
  return { starts: starts.subarray(0, kept), skipped: count - kept };
}
