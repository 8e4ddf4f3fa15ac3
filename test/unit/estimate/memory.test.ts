// The memory formulas on shapes whose numbers are worked out by hand in the comments.
import { describe, expect, it } from 'vitest';
import {
  backwardPerToken,
  inferencePerToken,
  judge,
  keptPerToken,
  memoryParts,
  spikingBackwardPerToken,
  spikingKeptPerToken,
} from '../../../electron/core/estimate/memory.js';
import type { ModelShape } from '../../../electron/core/estimate/model-shape.js';

/** GPT-2 small (124M): 12 layers, 768 wide, 12 heads, ffn 3072, 50257 tokens. */
const gpt2: ModelShape = {
  parameters: 124_439_808,
  weightBytes: 124_439_808 * 4,
  layers: 12,
  hidden: 768,
  qDim: 768,
  kvDim: 768,
  ffn: 3072,
  vocab: 50257,
  wordEmbed: 768,
  preNorm: true,
  gated: false,
  finalNorm: true,
  embedProjection: false,
};

/** A tiny LLaMA: grouped-query attention (4 query heads, 2 key/value heads of size 2), gated ffn. */
const llama: ModelShape = {
  parameters: 1000,
  weightBytes: 4000,
  layers: 2,
  hidden: 8,
  qDim: 8,
  kvDim: 4,
  ffn: 16,
  vocab: 10,
  wordEmbed: 8,
  preNorm: true,
  gated: true,
  finalNorm: true,
  embedProjection: false,
};

/** An OPT-350m-like block: post-norm, no final norm, project_in/out between 8 and 16 wide. */
const optPost: ModelShape = {
  ...gpt2,
  layers: 1,
  hidden: 16,
  qDim: 16,
  kvDim: 16,
  ffn: 64,
  vocab: 50,
  wordEmbed: 8,
  preNorm: false,
  finalNorm: false,
  embedProjection: true,
};

const bytesOf = (parts: ReturnType<typeof memoryParts>) => Object.fromEntries(parts.map((p) => [p.id, p.bytes]));

describe('values kept per token', () => {
  it('GPT-2 small: 148,992 kept and 10,752 in the backward buffers', () => {
    // Per layer: attn_norm 768 + q,k,v 3 x 768 + attention output 768 + sum and ffn_norm 2 x 768
    //   + up 3072 + activation 3072 = 11,520. Stream 13 x 768 = 9,984, final norm 768.
    expect(keptPerToken(gpt2, true)).toBe(9984 + 12 * 11520 + 768);
    // 2 x 768 (stream, normed) + 2 x 768 (q, attention output) + 2 x 768 (k, v) + 2 x 3072 (activation, up).
    expect(backwardPerToken(gpt2, true)).toBe(10752);
  });

  it('LLaMA: the gate and, with QCFS on, the gated product are kept too', () => {
    // Per layer without the site: 8 + 8 + 2 x 4 + 8 + 2 x 8 + 2 x 16 + 16 = 96; the site adds 16.
    expect(keptPerToken(llama, false)).toBe(3 * 8 + 2 * 96 + 8);
    expect(keptPerToken(llama, true)).toBe(3 * 8 + 2 * 112 + 8);
    // 2 x 8 + 2 x 8 + 2 x 4 + 2 x 16 + gate 16 (+ site 16).
    expect(backwardPerToken(llama, false)).toBe(88);
    expect(backwardPerToken(llama, true)).toBe(104);
  });

  it('post-norm blocks keep the sum before ffn_norm; project_in/out add two narrow rows', () => {
    // Per layer: q,k,v 48 + attention output 16 + 2 x 16 + up 64 + activation 64 + ffn sum 16 = 240.
    expect(keptPerToken(optPost, false)).toBe(2 * 16 + 240 + 2 * 8);
    expect(backwardPerToken(optPost, false)).toBe(32 + 32 + 32 + 128 + 8);
    // The forward's words before project_in live beside its work buffers: 3 x 16 + 4 x 16 + 64 + 8.
    expect(inferencePerToken(optPost)).toBe(184);
  });

  it("the calibrator's student: T rows per token through the layers, the head's buffers once per token", () => {
    // T = 4: 4 x the rows' 280 (stream 2 x 16, the layer's 240, project_in's input 8), then per token
    // the averaged features 16, project_out's output 8 and one layer's align gradient 64.
    expect(spikingKeptPerToken(optPost, 4)).toBe(4 * 280 + 16 + 8 + 64);
    // 4 x the rows' 232, and the averaged features' gradient 16.
    expect(spikingBackwardPerToken(optPost, 4)).toBe(4 * 232 + 16);
    // At T = 1 one row per token, nothing averaged.
    expect(spikingKeptPerToken(optPost, 1)).toBe(keptPerToken(optPost, true) + 64);
    expect(spikingBackwardPerToken(optPost, 1)).toBe(backwardPerToken(optPost, true));
  });
});

describe('memory parts', () => {
  it('fine-tuning GPT-2 small at batch 8 x block 128', () => {
    const parts = memoryParts(gpt2, { job: 'finetune', batchSize: 8, blockSize: 128, timesteps: 1 });
    const params = 124_439_808 + 12; // one lambda per layer
    expect(bytesOf(parts)).toEqual({
      weights: params * 4, // 497,759,280
      gradients: params * 4,
      optimizer: 2 * params * 4,
      activations: 1024 * 148_992 * 4, // 610,271,232
      backward: 1024 * 10_752 * 4, // 44,040,192
      logits: 1024 * 50_257 * 4, // 205,852,672
    });
    expect(parts.reduce((s, p) => s + p.bytes, 0)).toBe(2_851_201_216);
    expect(parts.find((p) => p.id === 'activations')!.how).toBe('8 × 128 tokens × 148,992 values per token × 4 bytes');
  });

  it('plain training has no thresholds', () => {
    const parts = bytesOf(memoryParts(gpt2, { job: 'train', batchSize: 1, blockSize: 2, timesteps: 1 }));
    expect(parts.weights).toBe(124_439_808 * 4);
    expect(parts.activations).toBe(2 * 148_992 * 4);
  });

  it('chat: the key/value cache and the work buffers of one forward, times T for a spiking model', () => {
    const ann = bytesOf(memoryParts(gpt2, { job: 'chat', batchSize: 1, blockSize: 1024, timesteps: 1 }));
    expect(ann).toEqual({
      weights: 124_439_808 * 4,
      kvCache: 2 * 12 * 768 * 1024 * 4, // 75,497,472
      // x, normed x, output 3 x 768; q, k, v, attention output 4 x 768; up 3072: 8,448 values per token.
      work: 1024 * 8448 * 4,
      logits: 50_257 * 4,
    });
    const snn = bytesOf(memoryParts(gpt2, { job: 'chat', batchSize: 1, blockSize: 1024, timesteps: 8 }));
    expect(snn.weights).toBe(ann.weights);
    expect(snn.spikeWeights).toBe(12 * 3072 * 768 * 4); // the down projections, transposed for the spike-driven layer
    expect(snn.kvCache).toBe(8 * ann.kvCache!);
    expect(snn.work).toBe(8 * 1024 * (8448 * 4 + 3072)); // and the spikes, one byte each
    expect(snn.logits).toBe(ann.logits); // the features are averaged over T before the head
  });

  it('a 16-bit model runs on its weights as stored; training still keeps 4 bytes a parameter', () => {
    // GPT-2 small in F16: the 123.6M elements of its matrices in 2 bytes, the 38,400 of its biases and norms in 4.
    const f16: ModelShape = { ...gpt2, weightBytes: 2 * (124_439_808 - 38_400) + 4 * 38_400 };
    const chat = memoryParts(f16, { job: 'chat', batchSize: 1, blockSize: 1024, timesteps: 1 });
    const weights = chat.find((p) => p.id === 'weights')!;
    expect(weights.bytes).toBe(248_956_416);
    expect(weights.how).toBe('124,439,808 parameters, the 16-bit matrices in 2 bytes each and the rest in 4');
    const calibrate = bytesOf(memoryParts(f16, { job: 'calibrate', batchSize: 1, blockSize: 8, timesteps: 4 }));
    expect(calibrate.weights).toBe(248_956_416 + 2 * 12 * 3072 * 4); // and the neurons' values in F32
    expect(calibrate.spikeWeights).toBe(12 * 3072 * 768 * 2); // transposed in the weights' own dtype
    expect(bytesOf(memoryParts(f16, { job: 'train', batchSize: 1, blockSize: 8, timesteps: 1 })).weights).toBe(124_439_808 * 4);
  });

  it('evaluation: a forward on a batch of blocks at T, with logits for every position', () => {
    const chat = bytesOf(memoryParts(gpt2, { job: 'chat', batchSize: 2, blockSize: 128, timesteps: 8 }));
    const evaluate = bytesOf(memoryParts(gpt2, { job: 'evaluate', batchSize: 2, blockSize: 128, timesteps: 8 }));
    // Scored inside the engine: one copy, never handed to JavaScript.
    expect(evaluate).toEqual({ ...chat, logits: 2 * 128 * 50_257 * 4 });
  });

  it('calibration fits the neurons on captured inputs, then all at once on the training graph', () => {
    const parts = bytesOf(memoryParts(llama, { job: 'calibrate', batchSize: 2, blockSize: 3, timesteps: 4 }));
    // 6 tokens, T = 4. Work per token: 3 x 8 + 2 x 8 + 2 x 4 + 2 x 16 (up, gate) = 80 floats, and 16 one-byte spikes.
    // The joint pass keeps keptPerToken(llama, true) = 256 per token for the teacher; for the student
    // 4 x 256 (its rows), 8 averaged features and 2 x 16 align gradients; 4 x backwardPerToken(llama,
    // true) = 4 x 104 and the averaged features' gradient 8 in backward.
    expect(keptPerToken(llama, true)).toBe(256);
    expect(backwardPerToken(llama, true)).toBe(104);
    expect(parts).toEqual({
      weights: (1000 + 2 * 2 * 16) * 4,
      spikeWeights: 2 * 16 * 8 * 4,
      gradients: 2 * 2 * 16 * 4,
      optimizer: 2 * 64 * 4,
      activations: 6 * (4 + 1) * 16 * 4,
      backward: (1000 + 2 + 6 * (256 + (4 * 256 + 8 + 2 * 16) + (4 * 104 + 8))) * 4,
      cache: 2 ** 30,
      work: 6 * 4 * (80 * 4 + 16),
      kvCache: 2 * 4 * 6 * 4 * 4,
      logits: 2 * 6 * 10 * 4,
    });
    // One threshold and initial potential per (position, neuron) for 3 positions, as the FAS reference recipe fits up to the block.
    const perPosition = memoryParts(llama, { job: 'calibrate', batchSize: 2, blockSize: 3, timesteps: 4, neuronPositions: 3 });
    expect(bytesOf(perPosition)).toMatchObject({ weights: (1000 + 2 * 2 * 3 * 16) * 4, gradients: 2 * 2 * 3 * 16 * 4, optimizer: 2 * 192 * 4 });
    expect(perPosition.find((p) => p.id === 'gradients')!.how).toBe(
      'threshold and initial potential of every (position, neuron): 2 × 2 layers × 3 positions × 16 × 4 bytes',
    );
  });
});

describe('verdict', () => {
  it('fits up to three quarters of the free memory, is tight up to all of it, and does not fit beyond', () => {
    expect(judge('finetune', 750, 1000).verdict).toBe('fits');
    expect(judge('finetune', 751, 1000).verdict).toBe('tight');
    expect(judge('finetune', 1000, 1000).verdict).toBe('tight');
    const tooBig = judge('finetune', 1001, 1000);
    expect(tooBig.verdict).toBe('too-big');
    expect(tooBig.advice).toBe('Will not fit: it needs about 1001 B but only 1000 B is free. Lower the batch or block size.');
    expect(judge('chat', 3 * 1024 ** 3, 2 * 1024 ** 3).advice).toBe('Will not fit: it needs about 3.0 GiB but only 2.0 GiB is free. Use a shorter context.');
    expect(judge('calibrate', 1024, 4096).advice).toBe('Fits: it needs about 1.0 KiB of the 4.0 KiB free.');
  });
});
