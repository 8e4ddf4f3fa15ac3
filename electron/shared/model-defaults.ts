// Defaults that depend on the model a job runs on, in one place for the core (CLI, API) and the
// wizards: a job given no block size uses the usual one, cut to the model's context.

/** Tokens per sequence when the model's context allows it. */
export const DEFAULT_BLOCK_SIZE = 128;

/** The block size of a job on a model with `maxPositions` positions: the one asked for, else the default that fits. */
export function blockSizeFor(requested: number | undefined, maxPositions: number): number {
  return requested ?? Math.min(DEFAULT_BLOCK_SIZE, maxPositions);
}
