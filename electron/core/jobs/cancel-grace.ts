// How long a job asked to stop may take before it is killed: long enough to save a checkpoint of the
// model at hand (Pause is a cancel that saves), so stopping never costs the work since the last one.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Time to reach the next safe point (the current step or layer) before saving. */
const BASE_GRACE_MS = 30_000;
/** A slow disk (a USB hard disk, a network share): slower disks only wait for a later kill. */
export const ASSUMED_WRITE_BYTES_PER_SECOND = 40e6;
/**
 * Bytes a training checkpoint writes per byte of the source's weight files: the weights in F32 plus
 * Adam's two F32 moments, three F32 copies, from weights that may be stored in 16 bits (x2).
 */
const CHECKPOINT_BYTES_PER_WEIGHT_BYTE = 6;

/** Bytes of the .safetensors files in `dir` (0 when it cannot be read). */
async function weightBytes(dir: string): Promise<number> {
  const names = await readdir(dir).catch(() => [] as string[]);
  let total = 0;
  for (const name of names.filter((n) => n.endsWith('.safetensors'))) total += (await stat(join(dir, name)).catch(() => null))?.size ?? 0;
  return total;
}

/** The grace period for a job with these parameters (its `modelDir` is the model it trains or calibrates). */
export async function cancelGraceMs(params: unknown): Promise<number> {
  const modelDir = (params as { modelDir?: unknown } | null)?.modelDir;
  const bytes = typeof modelDir === 'string' ? (await weightBytes(modelDir)) * CHECKPOINT_BYTES_PER_WEIGHT_BYTE : 0;
  return BASE_GRACE_MS + Math.ceil((bytes / ASSUMED_WRITE_BYTES_PER_SECOND) * 1000);
}
