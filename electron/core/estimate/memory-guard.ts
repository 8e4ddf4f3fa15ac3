// The check before chat or an evaluation loads a model in a mode: what it will need (weights, the
// key/value cache and work buffers at that T and context, memory.ts) against the memory available
// now. A chat that would not fit gets a shorter context, said in words; an evaluation that would not
// fit, or a chat that would not fit even with a short context, is refused with the numbers, instead
// of the system's out-of-memory killer taking the app (chat runs in the app's own process) down.
import os from 'node:os';
import type { NativeModelSpec } from '../../../native/index.js';
import { formatBytes } from '../../shared/format.js';
import { memoryParts, type MemoryRequest } from './memory.js';
import { modelShape } from './model-shape.js';

/** A chat shorter than this is not worth having: refuse instead. */
export const MIN_CHAT_CONTEXT = 256;

/** Memory the system can give now without swapping (Linux: MemAvailable; elsewhere: free memory). */
export function availableMemoryBytes(): number {
  return os.freemem();
}

export class NotEnoughMemoryError extends Error {
  override name = 'NotEnoughMemoryError';
}

/** The model's sizes as the estimate needs them. */
export interface GuardedModel {
  /** How to name it in messages, e.g. '"SmolLM-135M" as the spiking model at T = 8'. */
  label: string;
  spec: NativeModelSpec;
  parameters: number;
}

function bytesFor(model: GuardedModel, request: MemoryRequest): number {
  return memoryParts(modelShape(model.spec, model.parameters), request).reduce((sum, p) => sum + p.bytes, 0);
}

function breakdown(model: GuardedModel, request: MemoryRequest): string {
  return memoryParts(modelShape(model.spec, model.parameters), request)
    .map((p) => `${p.label.toLowerCase()} ${formatBytes(p.bytes)}`)
    .join(', ');
}

/**
 * The context a chat can have: the model's full context when it fits, else the longest that does
 * (with a note saying so). Throws NotEnoughMemoryError when not even MIN_CHAT_CONTEXT tokens fit.
 */
export function chatContext(model: GuardedModel, timesteps: number, availableBytes: number): { contextLength: number; note: string | null } {
  const full = model.spec.maxPositions;
  const request = (blockSize: number): MemoryRequest => ({ job: 'chat', batchSize: 1, blockSize, timesteps });
  const need = bytesFor(model, request(full));
  if (need <= availableBytes) return { contextLength: full, note: null };
  // Weights and logits are fixed; the cache and the work buffers grow linearly with the context.
  const fixed = bytesFor(model, request(0));
  const perToken = bytesFor(model, request(1)) - fixed;
  const fits = Math.floor((availableBytes - fixed) / perToken);
  const needed =
    `${model.label} with its full context of ${full.toLocaleString('en-US')} tokens needs about ${formatBytes(need)} ` +
    `(${breakdown(model, request(full))}), but only ${formatBytes(availableBytes)} is available`;
  if (fits < Math.min(MIN_CHAT_CONTEXT, full)) {
    throw new NotEnoughMemoryError(`${needed}, not enough for even ${Math.min(MIN_CHAT_CONTEXT, full)} tokens. Close other programs, or chat at a smaller T.`);
  }
  return { contextLength: fits, note: `${needed}, so this chat reads at most ${fits.toLocaleString('en-US')} tokens at once.` };
}

/** Throws NotEnoughMemoryError, with the numbers, when an evaluation's batch would not fit. */
export function checkEvaluationMemory(model: GuardedModel, request: Omit<MemoryRequest, 'job'>, availableBytes: number): void {
  const full: MemoryRequest = { job: 'evaluate', ...request };
  const need = bytesFor(model, full);
  if (need <= availableBytes) return;
  throw new NotEnoughMemoryError(
    `Evaluating ${model.label} on ${request.batchSize} × ${request.blockSize} tokens at once needs about ${formatBytes(need)} ` +
      `(${breakdown(model, full)}), but only ${formatBytes(availableBytes)} is available. Lower the batch or block size, or the largest T.`,
  );
}
