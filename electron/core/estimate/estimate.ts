// 'models.estimate': the memory a job on a library model will need, part by part, against this
// computer's free memory, with a verdict in words.
import os from 'node:os';
import type { MemoryEstimate, ModelEntry, ParamsOf } from '../../api/contract.js';
import { ApiError } from '../api/errors.js';
import type { ModelLibrary } from '../library/library.js';
import { openModelFolder } from '../model/folder.js';
import { judge, memoryParts, whatToLower } from './memory.js';
import { modelShape } from './model-shape.js';

/** T when neither the request nor the model says (the paper's T for generation). */
const DEFAULT_TIMESTEPS = 8;

export async function estimateMemory(library: ModelLibrary, params: ParamsOf<'models.estimate'>, freeBytes: number = os.freemem()): Promise<MemoryEstimate> {
  const entry = await library.get(params.id);
  if (entry.problem) throw new ApiError('bad_request', entry.problem);
  const { spec, summary } = await openModelFolder(entry.path);
  if (params.blockSize > spec.maxPositions) {
    throw new ApiError('bad_request', `The block size ${params.blockSize} is longer than the model's context (${spec.maxPositions} tokens).`);
  }
  const request = {
    job: params.job,
    batchSize: params.batchSize,
    blockSize: params.blockSize,
    timesteps: timestepsFor(params, entry),
    // Values per position exist only up to the block: no more are ever fitted.
    ...(params.job === 'calibrate' && params.neuronPositions ? { neuronPositions: Math.min(params.neuronPositions, params.blockSize) } : {}),
  };
  const shape = modelShape(spec, summary.parameterCount);
  const parts = memoryParts(shape, request);
  const totalBytes = parts.reduce((sum, p) => sum + p.bytes, 0);
  return { ...request, parts, totalBytes, freeBytes, ...judge(params.job, totalBytes, freeBytes, whatToLower(shape, request)) };
}

/**
 * Calibration is always spiking; chat and evaluation are spiking with a converted model (evaluation
 * at the largest T it measures); training never is. A model spiking at every layer runs one pass per
 * token whatever T (layer encoding), so it holds one copy, and it is never calibrated.
 */
function timestepsFor(params: ParamsOf<'models.estimate'>, entry: ModelEntry): number {
  const spiking = params.job === 'calibrate' || ((params.job === 'chat' || params.job === 'evaluate') && entry.stage !== 'ann');
  if (!spiking || entry.spiking?.scope === 'all') return 1;
  return params.timesteps ?? entry.spiking?.timesteps ?? DEFAULT_TIMESTEPS;
}
