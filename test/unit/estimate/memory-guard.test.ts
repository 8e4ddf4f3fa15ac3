// The memory guard before chat and evaluation load a model: with an injected amount of available
// memory, a chat gets a shorter context (saying so) or is refused with the numbers, and so is an
// evaluation, before any weights are loaded.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NativeModelSpec } from '../../../native/index.js';
import { openChatModel } from '../../../electron/core/chat/chat-model.js';
import { chatContext, checkEvaluationMemory, NotEnoughMemoryError } from '../../../electron/core/estimate/memory-guard.js';
import { evalSettings, runEvaluation } from '../../../electron/core/eval/evaluate.js';
import { tempDir } from '../../helpers/tiny-models.js';
import { writeChatModel, writeConvertedChatModel } from '../chat/helpers.js';

const GiB = 2 ** 30;

/** SmolLM-135M's sizes (config.json of HuggingFaceTB/SmolLM-135M). */
const smolLm: NativeModelSpec = {
  family: 'llama',
  vocabSize: 49152,
  hiddenSize: 576,
  numLayers: 30,
  numHeads: 9,
  numKvHeads: 3,
  headDim: 64,
  ffnSize: 1536,
  maxPositions: 2048,
  positionOffset: 0,
  norm: 'rmsnorm',
  normEps: 1e-5,
  activation: 'silu_gated',
  positions: 'rope',
  ropeTheta: 10000,
  preNorm: true,
  wordEmbedDim: 576,
  tiedHead: true,
  // The estimate reads only the tensors' sizes and dtypes: its 134,515,008 F32 parameters as one matrix.
  tensors: { 'embed.tokens': { file: 'model.safetensors', offset: 0, byteLength: 134_515_008 * 4, dtype: 'F32', shape: [233_533, 576] } },
};
const smol = { label: '"SmolLM-135M" as the spiking model at T = 1024', spec: smolLm, parameters: 134_515_008 };

describe('memory guard', () => {
  it('refuses SmolLM-135M at T = 1024 with a 2k context on a 16 GiB machine, with the numbers', () => {
    expect(() => chatContext(smol, 1024, 16 * GiB)).toThrow(NotEnoughMemoryError);
    expect(() => chatContext(smol, 1024, 16 * GiB)).toThrow(
      /^"SmolLM-135M" as the spiking model at T = 1024 with its full context of 2,048 tokens needs about 143\.1 GiB \(weights 513\.1 MiB, transposed down projections 101\.3 MiB, key\/value cache 90\.0 GiB, work buffers of one forward 52\.5 GiB, logits [\d.]+ KiB\), but only 16\.0 GiB is available, not enough for even 256 tokens\. Close other programs, or chat at a smaller T\.$/,
    );
  });

  it('lowers the context to what fits, saying so, and keeps the full context when it fits', () => {
    const lowered = chatContext(smol, 64, 4 * GiB);
    expect(lowered.contextLength).toBeGreaterThanOrEqual(256);
    expect(lowered.contextLength).toBeLessThan(2048);
    expect(lowered.note).toMatch(new RegExp(`so this chat reads at most ${lowered.contextLength.toLocaleString('en-US')} tokens at once\\.$`));
    expect(chatContext(smol, 1, 4 * GiB)).toEqual({ contextLength: 2048, note: null });
  });

  it('refuses an evaluation batch that does not fit', () => {
    expect(() => checkEvaluationMemory(smol, { batchSize: 4, blockSize: 512, timesteps: 32 }, 1 * GiB)).toThrow(
      /^Evaluating "SmolLM-135M" .* on 4 × 512 tokens at once needs about 5\.4 GiB \(.*\), but only 1\.0 GiB is available\. Lower the batch or block size, or the largest T\.$/,
    );
    expect(() => checkEvaluationMemory(smol, { batchSize: 1, blockSize: 128, timesteps: 1 }, 8 * GiB)).not.toThrow();
  });

  describe('before loading', () => {
    let root: string;
    let cleanup: () => Promise<void>;
    beforeAll(async () => ({ path: root, cleanup } = await tempDir()));
    afterAll(() => cleanup());

    it('opens a chat with a shorter context, or refuses it, by the memory available', async () => {
      const dir = await writeConvertedChatModel(join(root, 'converted'), { contextLength: 4096, timesteps: 4 });
      await expect(openChatModel(dir, { kind: 'snn', timesteps: 64 }, () => 1024 * 1024)).rejects.toThrow(
        /only 1\.0 MiB is available, not enough for even 256 tokens/,
      );
      const short = await openChatModel(dir, { kind: 'snn', timesteps: 64 }, () => 64 * 1024 * 1024);
      try {
        expect(short.contextLength).toBeLessThan(4096);
        expect(short.contextNote).toMatch(/"converted" as the spiking model at T = 64 with its full context of 4,096 tokens needs about/);
        // A system prompt longer than the lowered context is refused in words.
        await expect(short.prompt('x'.repeat(short.contextLength + 10), [{ role: 'user', text: 'Hi' }], false, 16)).rejects.toThrow(
          new RegExp(`reads at most ${short.contextLength.toLocaleString('en')} tokens at once`),
        );
      } finally {
        short.dispose();
      }
    });

    it('refuses an evaluation before loading the model', async () => {
      const dir = await writeChatModel(join(root, 'plain'), { contextLength: 256 });
      const ctx = { runDir: root, signal: new AbortController().signal, progress: () => {}, log: () => {} };
      const settings = evalSettings.parse({ modelDir: dir, task: 'ppl', blockSize: 256, batchSize: 64 });
      await expect(runEvaluation(settings, ctx, () => 1024 * 1024)).rejects.toThrow(
        /^Evaluating "plain" on 64 × 256 tokens at once needs about [\d.]+ MiB .* but only 1\.0 MiB is available/,
      );
    });
  });
});
