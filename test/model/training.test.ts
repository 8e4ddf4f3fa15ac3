// The training loop end to end on tiny models with the real engine: loss falls, checkpoints resume
// exactly, cancel keeps a checkpoint, a NaN stops the run in words, stage 1 writes a spiking folder
// (scope ffn and scope all).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNative, type NativeTrainer } from '../../native/index.js';
import type { JobContext, JobProgressUpdate } from '../../electron/core/jobs/types.js';
import { JobCancelledError } from '../../electron/core/jobs/types.js';
import { openModelFolder } from '../../electron/core/model/folder.js';
import { readSafetensorsHeader } from '../../electron/core/model/safetensors.js';
import { readSpikingConfig } from '../../electron/core/spiking/spiking-config.js';
import { readAllScopeWeights, readSpikingWeights } from '../../electron/core/spiking/spiking-weights.js';
import { loadModel } from '../../electron/core/inference/loaded-model.js';
import { finetuneSettings, trainSettings } from '../../electron/core/training/settings.js';
import { runTraining, type TrainingEngine } from '../../electron/core/training/train-loop.js';
import { tempDir, writeTinyModel } from '../helpers/tiny-models.js';

function context(runDir: string, onProgress?: (u: JobProgressUpdate, abort: () => void) => void) {
  const controller = new AbortController();
  const updates: JobProgressUpdate[] = [];
  const ctx: JobContext = {
    runDir,
    signal: controller.signal,
    progress: (u) => {
      updates.push(u);
      onProgress?.(u, () => controller.abort());
    },
    log: () => undefined,
  };
  return { ctx, updates };
}

const TEXT = 'The whale swam on. The sea was calm and grey. Ishmael watched the whale.\n\n'.repeat(40);

describe('training loop', async () => {
  const temp = await tempDir();
  afterAll(() => temp.cleanup());
  const model = join(temp.path, 'tiny');
  await writeTinyModel(model, 'gpt2');
  const data = join(temp.path, 'data.txt');
  writeFileSync(data, TEXT);
  const base = { modelDir: model, dataPath: data, batchSize: 4, blockSize: 16, valEvery: 5, saveEvery: 4, lr: 3e-3, validationFraction: 0.1, seed: 3 };

  it('lowers the loss and writes a loadable model', async () => {
    const out = join(temp.path, 'trained');
    const { ctx, updates } = context(temp.path);
    const result = await runTraining(trainSettings.parse({ ...base, outDir: out, steps: 12 }), ctx, loadNative());
    const losses = updates.flatMap((u) => (u.metrics?.loss !== undefined ? [u.metrics.loss] : []));
    expect(losses).toHaveLength(12);
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    expect(result.perplexityAfter!).toBeLessThan(result.perplexityBefore!);
    const folder = await openModelFolder(out);
    expect(folder.summary.layers).toBe(2);
  });

  it('resumes from a cancelled run to exactly the weights of an uninterrupted one, reporting its first validation', async () => {
    const straight = join(temp.path, 'straight');
    const whole = await runTraining(trainSettings.parse({ ...base, outDir: straight, steps: 10 }), context(temp.path).ctx, loadNative());

    const resumed = join(temp.path, 'resumed');
    const first = context(temp.path, (u, abort) => u.metrics?.step === 6 && abort());
    await expect(runTraining(trainSettings.parse({ ...base, outDir: resumed, steps: 10 }), first.ctx, loadNative())).rejects.toBeInstanceOf(JobCancelledError);
    // The cancelled run left a loadable checkpoint.
    expect((await openModelFolder(join(resumed, 'checkpoint'))).summary.layers).toBe(2);
    const continued = await runTraining(trainSettings.parse({ ...base, outDir: resumed, steps: 10, resume: true }), context(temp.path).ctx, loadNative());
    // The validation before the first step, kept in the checkpoint.
    expect(whole.perplexityBefore).toBeGreaterThan(1);
    expect(continued.perplexityBefore).toBe(whole.perplexityBefore);
    expect(continued.perplexityAfter).toBe(whole.perplexityAfter);

    const a = await readSafetensorsHeader(join(straight, 'model.safetensors'));
    const b = await readSafetensorsHeader(join(resumed, 'model.safetensors'));
    const { readFile } = await import('node:fs/promises');
    expect([...a.tensors.keys()]).toEqual([...b.tensors.keys()]);
    expect(Buffer.compare(await readFile(join(straight, 'model.safetensors')), await readFile(join(resumed, 'model.safetensors')))).toBe(0);
  });

  it('cancel stops inside a micro-batch in flight and still resumes to the uninterrupted weights', async () => {
    const settings = { ...base, gradAccum: 3, steps: 5, saveEvery: 100 };
    const straight = join(temp.path, 'straight-accum');
    await runTraining(trainSettings.parse({ ...settings, outDir: straight }), context(temp.path).ctx, loadNative());

    // Cancel while the 8th micro-batch (step 3, second of three) runs in the engine.
    const { ctx } = context(temp.path);
    const controller = new AbortController();
    let calls = 0;
    const engine: TrainingEngine = {
      loadModel: (...args) => loadNative().loadModel(...args),
      async createTrainer(spec, options) {
        const trainer = await loadNative().createTrainer(spec, options);
        return new Proxy(trainer, {
          get: (target, key) => {
            if (key === 'forwardBackward') {
              return (...args: Parameters<NativeTrainer['forwardBackward']>) => {
                const call = trainer.forwardBackward(...args);
                if (++calls === 8) controller.abort();
                return call;
              };
            }
            const value: unknown = Reflect.get(target, key);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
      },
    };
    const cancelled = join(temp.path, 'cancelled-accum');
    await expect(runTraining(trainSettings.parse({ ...settings, outDir: cancelled }), { ...ctx, signal: controller.signal }, engine)).rejects.toBeInstanceOf(
      JobCancelledError,
    );
    expect(calls).toBe(8);
    const { readFile } = await import('node:fs/promises');
    expect(JSON.parse(await readFile(join(cancelled, 'checkpoint', 'trainer_state.json'), 'utf8')).step).toBe(2);
    await runTraining(trainSettings.parse({ ...settings, outDir: cancelled, resume: true }), context(temp.path).ctx, loadNative());
    expect(Buffer.compare(await readFile(join(straight, 'model.safetensors')), await readFile(join(cancelled, 'model.safetensors')))).toBe(0);
  });

  it('refuses to resume with different settings or without a checkpoint', async () => {
    const out = join(temp.path, 'nothing-here');
    mkdirSync(out);
    await expect(runTraining(trainSettings.parse({ ...base, outDir: out, steps: 4, resume: true }), context(temp.path).ctx, loadNative())).rejects.toThrow(
      /no checkpoint to resume/,
    );
  });

  it('stops on a NaN loss with a message and keeps the last checkpoint', async () => {
    // The engine as it is, except that the 6th step's loss overflows.
    let calls = 0;
    const engine: TrainingEngine = {
      loadModel: (...args) => loadNative().loadModel(...args),
      async createTrainer(spec, options) {
        const trainer = await loadNative().createTrainer(spec, options);
        const forwardBackward: NativeTrainer['forwardBackward'] = async (...args) => {
          const r = await trainer.forwardBackward(...args);
          return ++calls === 6 ? { ...r, loss: Number.NaN } : r;
        };
        return new Proxy(trainer, {
          get: (target, key) => {
            if (key === 'forwardBackward') return forwardBackward;
            const value: unknown = Reflect.get(target, key);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
      },
    };
    const out = join(temp.path, 'diverged');
    await expect(runTraining(trainSettings.parse({ ...base, outDir: out, steps: 10 }), context(temp.path).ctx, engine)).rejects.toThrow(
      /Training diverged at step 6: the loss became NaN.*last good checkpoint \(step 4\).*Lower the learning rate/,
    );
    expect((await openModelFolder(join(out, 'checkpoint'))).summary.layers).toBe(2);
  });

  it('stage 1 writes a spiking folder with the learned thresholds and reports the ANN perplexity', async () => {
    const out = join(temp.path, 'stage1');
    const settings = finetuneSettings.parse({ ...base, outDir: out, steps: 6, qcfs: { levels: 8, initialLambda: 1.5 } });
    const result = await runTraining(settings, context(temp.path).ctx, loadNative());
    expect(result.annPerplexityBefore).toBeGreaterThan(1);
    expect(result.finalLambdas).toHaveLength(2);
    expect(result.finalLambdas!.some((l) => l !== 1.5)).toBe(true);
    expect(await readSpikingConfig(out)).toMatchObject({ L: 8, T: 8, calibration: 'none', signed: false });
    const weights = await readSpikingWeights(out, 2, 64, false);
    expect(Array.from(weights.lambdas)).toEqual(result.finalLambdas!.map((l) => Math.fround(l)));
  });

  it("stage 1 in scope all trains every site's thresholds and writes a folder that runs in snn mode, equal to qcfs at T = L", async () => {
    const out = join(temp.path, 'stage1-all');
    const settings = finetuneSettings.parse({ ...base, outDir: out, steps: 8, scope: 'all', qcfs: { levels: 4 }, timesteps: 4 });
    const { ctx, updates } = context(temp.path);
    const result = await runTraining(settings, ctx, loadNative());
    const losses = updates.flatMap((u) => (u.metrics?.loss === undefined ? [] : [u.metrics.loss]));
    expect(losses).toHaveLength(8);
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    expect(result.perplexityAfter!).toBeLessThan(result.perplexityBefore!);
    expect(await readSpikingConfig(out)).toMatchObject({ version: 2, scope: 'all', encoding: 'layer', L: 4, T: 4, calibration: 'none', signed: false });
    const model = await loadModel(out);
    try {
      const weights = await readAllScopeWeights(out, model.folder.spec);
      const { spec } = model.folder;
      expect(weights.layers[0]!.qcfs).toHaveLength(spec.ffnSize); // the FFN site per neuron
      expect(weights.layers[0]!.q).toHaveLength(spec.numHeads * spec.headDim);
      const ids = Int32Array.from({ length: 12 }, (_, i) => (i * 37) % 256);
      const qcfs = await model.engine.forward(ids, 1, 12, { mode: 'qcfs' });
      const snn = await model.engine.forward(ids, 1, 12, { mode: 'snn', timesteps: 4 });
      const ann = await model.engine.forward(ids, 1, 12);
      const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
      expect(maxDiff(snn, qcfs)).toBeLessThan(1e-3);
      expect(maxDiff(qcfs, ann)).toBeGreaterThan(1e-3); // the quantisers act
    } finally {
      model.engine.dispose();
    }
  });

  it('stage 1 in scope all resumes from a cancelled run to exactly the thresholds of an uninterrupted one', async () => {
    const settings = { ...base, steps: 6, scope: 'all', qcfs: { levels: 4 } };
    const straight = join(temp.path, 'all-straight');
    await runTraining(finetuneSettings.parse({ ...settings, outDir: straight }), context(temp.path).ctx, loadNative());
    const resumed = join(temp.path, 'all-resumed');
    const first = context(temp.path, (u, abort) => {
      if (u.metrics?.step === 5) abort();
    });
    await expect(runTraining(finetuneSettings.parse({ ...settings, outDir: resumed }), first.ctx, loadNative())).rejects.toBeInstanceOf(JobCancelledError);
    await runTraining(finetuneSettings.parse({ ...settings, outDir: resumed, resume: true }), context(temp.path).ctx, loadNative());
    const spec = (await openModelFolder(straight)).spec;
    const [a, b] = await Promise.all([readAllScopeWeights(straight, spec), readAllScopeWeights(resumed, spec)]);
    expect(Array.from(b.headIn)).toEqual(Array.from(a.headIn));
    expect(Array.from(b.layers[1]!.v)).toEqual(Array.from(a.layers[1]!.v));
    expect(Array.from(b.layers[0]!.qcfs)).toEqual(Array.from(a.layers[0]!.qcfs));
  });
});
