// Memory per GPU of the cluster job (fas_stage1.py: float32 everywhere, as the engine trains), under
// DDP (every GPU holds the whole model, its gradients and AdamW's two moments) and FSDP (each GPU holds
// 1/N of them plus the layers being computed, gathered whole). An estimate for the person who picks
// the hardware; what PyTorch adds on top (CUDA context, allocator slack) is a margin, not counted.
import type { ModelShape } from '../estimate/model-shape.js';
import { keptPerToken } from '../estimate/memory.js';

const FLOAT = 4;
/** Weights, gradients and AdamW's m and v, all float32. */
const STATE_FLOATS_PER_PARAM = 4;

export interface GpuMemory {
  gpus: number;
  /** Bytes per GPU with DDP, or null when the batch does not split over this many GPUs. */
  ddp: number | null;
  fsdp: number | null;
}

/** Parameters of one transformer layer (what FSDP gathers whole while it computes that layer). */
function layerParameters(s: ModelShape): number {
  const attention = s.hidden * (s.qDim + 2 * s.kvDim) + s.qDim * s.hidden;
  const ffn = (s.gated ? 3 : 2) * s.hidden * s.ffn;
  return attention + ffn + 4 * s.hidden; // norms and biases, roughly
}

/**
 * Activations autograd keeps for `rows` sequences of `block` tokens: what the engine keeps per token
 * (estimate/memory.ts), plus eager attention's scores and probabilities (the engine recomputes
 * them) and the logits with their log-softmax and gradient.
 */
function activationBytes(s: ModelShape, rows: number, block: number, heads: number): number {
  const tokens = rows * block;
  const attention = 3 * s.layers * heads * block; // scores, masked scores, probabilities per query token
  return tokens * (keptPerToken(s, true) + attention + 3 * s.vocab) * FLOAT;
}

export function gpuMemory(s: ModelShape, heads: number, batchSize: number, blockSize: number, gpuCounts: number[]): GpuMemory[] {
  const state = s.parameters * STATE_FLOATS_PER_PARAM * FLOAT;
  // FSDP keeps the unit being computed and the next one (prefetch) whole, with one unit's full gradient.
  const gathered = 3 * layerParameters(s) * FLOAT;
  const outer = (s.vocab * s.wordEmbed + 2 * s.hidden) * 2 * FLOAT; // the root unit: embeddings, head, final norm
  return gpuCounts.map((gpus) => {
    if (batchSize % gpus !== 0) return { gpus, ddp: null, fsdp: null };
    const activations = activationBytes(s, batchSize / gpus, blockSize, heads);
    return { gpus, ddp: state + activations, fsdp: state / gpus + gathered + outer + activations };
  });
}
