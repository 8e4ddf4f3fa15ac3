// 'models.estimate' through the API on a tiny GPT-2 from the library.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AppCore } from '../../../electron/core/app-core.js';
import { estimateMemory } from '../../../electron/core/estimate/estimate.js';
import { keptPerToken } from '../../../electron/core/estimate/memory.js';
import { modelShape } from '../../../electron/core/estimate/model-shape.js';
import { openModelFolder } from '../../../electron/core/model/folder.js';
import { writeAllScopeModel } from '../../helpers/spiking-all.js';
import { tempDir, TINY_POSITIONS, writeTinyModel } from '../../helpers/tiny-models.js';

describe('models.estimate', async () => {
  const temp = await tempDir();
  afterAll(() => temp.cleanup());
  const core = new AppCore({ workspaceDir: join(temp.path, 'workspace'), jobKinds: {} });
  const dir = join(temp.path, 'tiny-gpt2');
  await writeTinyModel(dir, 'gpt2');
  const model = await core.call('models.open', { path: dir });
  const folder = await openModelFolder(dir);

  it('adds up the parts of a fine-tuning job on the model and compares them with the free memory', async () => {
    const estimate = await core.call('models.estimate', { id: model.id, job: 'finetune', batchSize: 4, blockSize: 16 });
    const shape = modelShape(folder.spec, folder.summary.parameterCount);
    expect(estimate.parts.map((p) => p.id)).toEqual(['weights', 'gradients', 'optimizer', 'activations', 'backward', 'logits']);
    expect(estimate.parts.find((p) => p.id === 'weights')!.bytes).toBe((folder.summary.parameterCount + shape.layers) * 4);
    expect(estimate.parts.find((p) => p.id === 'activations')!.bytes).toBe(64 * keptPerToken(shape, true) * 4);
    expect(estimate.totalBytes).toBe(estimate.parts.reduce((s, p) => s + p.bytes, 0));
    expect(estimate.freeBytes).toBeGreaterThan(0);
    expect(estimate).toMatchObject({ job: 'finetune', batchSize: 4, blockSize: 16, timesteps: 1, verdict: 'fits' });
    expect(estimate.advice).toMatch(/^Fits: it needs about .* free\.$/);
  });

  it('counts the weights as the engine keeps them to run the model: 16-bit matrices in 2 bytes, vectors in 4', async () => {
    expect(modelShape(folder.spec, folder.summary.parameterCount).weightBytes).toBe(4 * folder.summary.parameterCount);
    const f16 = join(temp.path, 'tiny-gpt2-f16');
    await writeTinyModel(f16, 'gpt2', { dtype: 'F16' });
    const half = await openModelFolder(f16);
    const refs = Object.values(half.spec.tensors);
    const vectorElements = refs.filter((t) => t.shape.length === 1).reduce((n, t) => n + t.shape[0]! / (t.split?.parts ?? 1), 0);
    expect(vectorElements).toBeGreaterThan(0);
    expect(modelShape(half.spec, half.summary.parameterCount).weightBytes).toBe(2 * half.summary.parameterCount + 2 * vectorElements);
  });

  it('counts T only for spiking jobs: 8 by default for calibration, none for chat with an original model', async () => {
    const library = core.library;
    const calibrate = await estimateMemory(library, { id: model.id, job: 'calibrate', batchSize: 1, blockSize: 8 });
    expect(calibrate.timesteps).toBe(8);
    expect((await estimateMemory(library, { id: model.id, job: 'calibrate', batchSize: 1, blockSize: 8, timesteps: 4 })).timesteps).toBe(4);
    expect((await estimateMemory(library, { id: model.id, job: 'chat', batchSize: 1, blockSize: 8, timesteps: 4 })).timesteps).toBe(1);
    expect((await estimateMemory(library, { id: model.id, job: 'evaluate', batchSize: 4, blockSize: 8, timesteps: 32 })).timesteps).toBe(1);
  });

  it('counts per-position neuron values up to the block only, and only for calibration', async () => {
    const perPosition = await estimateMemory(core.library, { id: model.id, job: 'calibrate', batchSize: 1, blockSize: 8, neuronPositions: 100 });
    expect(perPosition.neuronPositions).toBe(8);
    const one = await estimateMemory(core.library, { id: model.id, job: 'calibrate', batchSize: 1, blockSize: 8 });
    expect(perPosition.totalBytes).toBeGreaterThan(one.totalBytes);
    expect((await estimateMemory(core.library, { id: model.id, job: 'chat', batchSize: 1, blockSize: 8, neuronPositions: 8 })).neuronPositions).toBeUndefined();
  });

  it('holds one copy for a model spiking at every layer, whatever T', async () => {
    const allDir = join(temp.path, 'tiny-all');
    await writeAllScopeModel(allDir, 'gpt2', 8);
    const all = await core.call('models.open', { path: allDir });
    expect(all.spiking).toMatchObject({ scope: 'all', timesteps: 8 });
    for (const job of ['chat', 'evaluate', 'calibrate'] as const) {
      expect((await estimateMemory(core.library, { id: all.id, job, batchSize: 1, blockSize: 8, timesteps: 16 })).timesteps).toBe(1);
    }
  });

  it('says when the job will not fit, and why a request is refused', async () => {
    const tooBig = await estimateMemory(core.library, { id: model.id, job: 'train', batchSize: 4, blockSize: 16 }, 1000);
    expect(tooBig.verdict).toBe('too-big');
    // The advice names the setting whose halving saves the most.
    expect(tooBig.advice).toContain('Lower the batch size (now 4).');
    // A large T is what makes a calibration big, and the advice names it.
    const manySteps = await estimateMemory(core.library, { id: model.id, job: 'calibrate', batchSize: 4, blockSize: 8, timesteps: 1024 }, 1000);
    expect(manySteps.advice).toMatch(/^Will not fit: .* Lower the timesteps T \(now 1024\)\.$/);
    await expect(core.call('models.estimate', { id: model.id, job: 'train', batchSize: 1, blockSize: TINY_POSITIONS + 1 })).rejects.toThrow(
      `The block size ${TINY_POSITIONS + 1} is longer than the model's context (${TINY_POSITIONS} tokens).`,
    );
    await expect(core.call('models.estimate', { id: 'nope', job: 'train', batchSize: 1, blockSize: 8 })).rejects.toThrow('No model with id "nope"');
    await expect(core.call('models.estimate', { id: model.id, job: 'sing' as 'train', batchSize: 1, blockSize: 8 })).rejects.toThrow(/Invalid parameters/);
  });
});
