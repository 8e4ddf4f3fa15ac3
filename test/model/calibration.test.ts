// FAS stage 2 end to end on a tiny GPT-2 with the real engine: stage 1 (QCFS fine-tuning), then
// calibration. The spiking model's held-out perplexity at T improves, the joint pass lowers the KL
// of the logits, the calibrated folder reads back and runs in the inference engine with the
// perplexity the report gives, and a cancelled run resumes without redoing its finished work.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNative, type NativeCalibrator } from '../../native/index.js';
import { loadCalibrationData } from '../../electron/core/calibration/calibration-data.js';
import { CALIBRATION_CHECKPOINT_DIR, CALIBRATION_STATE_FILE } from '../../electron/core/calibration/checkpoint.js';
import type { CalibrationReport } from '../../electron/core/calibration/report.js';
import { runCalibration, type CalibrationEngine } from '../../electron/core/calibration/run-calibration.js';
import { calibrateSettings } from '../../electron/core/calibration/settings.js';
import { loadModel } from '../../electron/core/inference/loaded-model.js';
import type { JobContext, JobProgressUpdate } from '../../electron/core/jobs/types.js';
import { JobCancelledError } from '../../electron/core/jobs/types.js';
import { readSpikingConfig, SPIKING_WEIGHTS_FILE } from '../../electron/core/spiking/spiking-config.js';
import { readSafetensorsHeader } from '../../electron/core/model/safetensors.js';
import { readSpikingWeights, type NeuronParams } from '../../electron/core/spiking/spiking-weights.js';
import { finetuneSettings } from '../../electron/core/training/settings.js';
import { runTraining } from '../../electron/core/training/train-loop.js';
import { tempDir, writeTinyModel } from '../helpers/tiny-models.js';

function context(onProgress?: (u: JobProgressUpdate, abort: () => void) => void): JobContext {
  const controller = new AbortController();
  return {
    runDir: '',
    signal: controller.signal,
    progress: (u) => onProgress?.(u, () => controller.abort()),
    log: () => undefined,
  };
}

/** The native engine, counting the calibrator's calls by method and layer. */
function countingEngine(calls: string[]): CalibrationEngine {
  return {
    async createCalibrator(spec, options) {
      const calibrator = await loadNative().createCalibrator(spec, options);
      return new Proxy(calibrator, {
        get: (target, key) => {
          const value: unknown = Reflect.get(target, key);
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            if (key === 'alignLoss' || key === 'coarse' || key === 'startFine') calls.push(`${String(key)} ${String(args[0])}`);
            if (key === 'startJoint') calls.push(key);
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      }) as NativeCalibrator;
    },
  };
}

const T = 3;
const TEXT = 'The whale swam on. The sea was calm and grey. Ishmael watched the whale from the deck.\n\n'.repeat(60);

describe('calibration', async () => {
  const temp = await tempDir();
  afterAll(() => temp.cleanup());
  const ann = join(temp.path, 'ann');
  await writeTinyModel(ann, 'gpt2');
  const data = join(temp.path, 'data.txt');
  writeFileSync(data, TEXT);
  const stage1 = join(temp.path, 'stage1');
  await runTraining(
    finetuneSettings.parse({ modelDir: ann, dataPath: data, outDir: stage1, steps: 100, batchSize: 4, blockSize: 24, lr: 3e-3, valEvery: 100, seed: 2 }),
    context(),
    loadNative(),
  );
  const base = { modelDir: stage1, dataPath: data, blockSize: 24, samples: 16, batchSize: 4, epochs: 4, jointEpochs: 4, evalBlocks: 16, seed: 2, timesteps: T };
  const calibrated = join(temp.path, 'calibrated');
  const report: CalibrationReport = await runCalibration(calibrateSettings.parse({ ...base, outDir: calibrated }), context(), loadNative());

  it('fits every layer and lowers the spiking perplexity and the KL at T', () => {
    // Which layers keep their new values is a close call on a tiny model (it differs between SIMD
    // paths); what must hold is that each pass fits some layer and never raises the KL.
    expect(report.layers.some((l) => l.coarse!.kept)).toBe(true);
    expect(report.layers.some((l) => l.fine!.kept)).toBe(true);
    for (const layer of report.layers) {
      expect(layer.before).toBeGreaterThan(0);
      expect(layer.coarse!.loss).toBeLessThanOrEqual(layer.coarse!.startLoss);
      const losses = layer.fine!.losses;
      expect(losses).toHaveLength(4);
      for (let i = 1; i < losses.length; i++) expect(losses[i]).toBeLessThanOrEqual(losses[i - 1]!);
    }
    const { before, coarse, fine, joint } = report.evaluations;
    expect(fine!.snnPerplexity).toBeLessThan(before!.snnPerplexity);
    expect(fine!.kl).toBeLessThan(before!.kl);
    expect(coarse!.kl).toBeLessThanOrEqual(before!.kl);
    expect(fine!.kl).toBeLessThanOrEqual(coarse!.kl);
    expect(fine!.qcfsPerplexity).toBeCloseTo(before!.qcfsPerplexity, 9);
    expect(fine!.qcfsPerplexity).toBeLessThan(fine!.snnPerplexity);
    // The joint pass lowers the KL it minimises, on the calibration text and on held-out text.
    const pass = report.joint!;
    expect(pass.epochs).toHaveLength(4);
    expect(pass.kept).toBeGreaterThan(0);
    expect(pass.epochs[pass.kept - 1]!.calibrationKl).toBe(Math.min(...pass.epochs.map((e) => e.calibrationKl)));
    expect(pass.epochs[pass.kept - 1]!.calibrationKl).toBeLessThan(pass.startKl);
    expect(report.calibrationKl).toBe(pass.epochs[pass.kept - 1]!.calibrationKl);
    expect(joint!.kl).toBeLessThan(fine!.kl);
    expect(joint!.snnPerplexity).toBeLessThan(before!.snnPerplexity);
  });

  it('writes a calibrated folder that reads back and runs at T with the reported perplexity', async () => {
    expect(await readSpikingConfig(calibrated)).toMatchObject({ T, calibration: 'neuron', L: 8, signed: false });
    const weights = await readSpikingWeights(calibrated, 2, 64, true);
    expect(Array.from(weights.lambdas)).toEqual(Array.from((await readSpikingWeights(stage1, 2, 64, false)).lambdas));
    weights.neurons!.forEach((n) => {
      expect(n.shape).toEqual([64]); // the joint pass spreads every layer to per-neuron values
      expect(n.threshold.every((t) => t > 0)).toBe(true);
    });
    expect(existsSync(join(calibrated, 'checkpoint'))).toBe(false);

    // The inference engine, loading each folder, scores the held-out text as the report says.
    const settings = { ...calibrateSettings.parse({ ...base, outDir: calibrated }), blockSize: base.blockSize, dataPath: base.dataPath };
    const scored = async (dir: string, mode: 'qcfs' | 'snn') => {
      const model = await loadModel(dir);
      const { heldOut } = await loadCalibrationData(settings, model.tokenizer);
      let nll = 0;
      let tokens = 0;
      for (const b of heldOut) {
        const logProbs = await model.engine.targetLogProbs(b.inputs, b.size, settings.blockSize, b.targets, { mode, timesteps: T });
        nll -= logProbs.reduce((sum, logProb) => sum + logProb, 0);
        tokens += b.targets.length;
      }
      model.engine.dispose();
      return Math.exp(nll / tokens);
    };
    expect(await scored(calibrated, 'snn')).toBeCloseTo(report.evaluations.joint!.snnPerplexity, 4);
    expect(await scored(stage1, 'snn')).toBeCloseTo(report.evaluations.before!.snnPerplexity, 4);
    expect(await scored(calibrated, 'qcfs')).toBeCloseTo(report.evaluations.joint!.qcfsPerplexity, 4);
  });

  it('calibrates per layer only, or per position up to a length', async () => {
    const layerOut = join(temp.path, 'per-layer');
    const layerReport = await runCalibration(calibrateSettings.parse({ ...base, outDir: layerOut, level: 'layer' }), context(), loadNative());
    expect(layerReport.evaluations.fine).toBeUndefined();
    expect(layerReport.joint).toBeUndefined();
    expect(layerReport.layers.every((l) => l.fine === null)).toBe(true);
    const perLayer = await readSpikingWeights(layerOut, 2, 64, true);
    expect(perLayer.neurons!.map((n) => n.shape)).toEqual([[1], [1]]);
    expect((await readSpikingConfig(layerOut))!.calibration).toBe('layer');

    const positionOut = join(temp.path, 'per-position');
    const positionSettings = { ...base, outDir: positionOut, maxPositions: 8, epochs: 2 };
    const positionReport = await runCalibration(calibrateSettings.parse({ ...positionSettings, jointEpochs: 0 }), context(), loadNative());
    // Eight positions of their own and one row for every later position, where the fine pass was kept.
    expect(positionReport.layers.some((l) => l.fine!.kept)).toBe(true);
    expect(positionReport.joint).toBeUndefined();
    const shapes = (await readSpikingWeights(positionOut, 2, 64, true)).neurons!.map((n) => n.shape);
    expect(shapes).toEqual(positionReport.layers.map((l) => (l.fine!.kept ? [9, 64] : [1])));
    // The joint pass keeps that layout, spreading an undone layer's single value to it.
    const jointReport = await runCalibration(calibrateSettings.parse({ ...positionSettings, jointEpochs: 1, overwrite: true }), context(), loadNative());
    const jointShapes = (await readSpikingWeights(positionOut, 2, 64, true)).neurons!.map((n) => n.shape);
    expect(jointShapes).toEqual(
      jointReport.joint!.kept > 0
        ? [
            [9, 64],
            [9, 64],
          ]
        : shapes,
    );
  });

  it('follows the FAS reference recipe: fixed start, per (position, neuron) up to the block, batchmean KL, 3 epochs', async () => {
    const out = join(temp.path, 'paper');
    const seen: { coarse: unknown[]; startJoint: unknown[]; startFine: number; atJointStart: NeuronParams[] } = {
      coarse: [],
      startJoint: [],
      startFine: 0,
      atJointStart: [],
    };
    const engine: CalibrationEngine = {
      async createCalibrator(spec, options) {
        const calibrator = await loadNative().createCalibrator(spec, options);
        return new Proxy(calibrator, {
          get: (target, key) => {
            const value: unknown = Reflect.get(target, key);
            if (typeof value !== 'function') return value;
            return (...args: unknown[]) => {
              if (key === 'coarse') seen.coarse.push(args[1]);
              if (key === 'startFine') seen.startFine += 1;
              if (key === 'startJoint') {
                seen.startJoint.push(args[0]);
                seen.atJointStart = [0, 1].map((layer) => target.getNeurons(layer));
              }
              return (value as (...a: unknown[]) => unknown).apply(target, args);
            };
          },
        }) as NativeCalibrator;
      },
    };
    // base asks for 4 fine and 4 joint epochs: the reference recipe sets its own.
    const paper = await runCalibration(calibrateSettings.parse({ ...base, outDir: out, recipe: 'paper' }), context(), engine);
    const { lambdas } = await readSpikingWeights(stage1, 2, 64, false);
    // The reference code's start on every layer before training: theta = 0.6 lambda, v0 = 0.2 theta.
    expect(seen.coarse).toEqual([{ choice: 'reference' }, { choice: 'reference' }]);
    seen.atJointStart.forEach((values, layer) => {
      expect(values.shape).toEqual([1]);
      expect(values.threshold[0]).toBeCloseTo(0.6 * lambdas[layer]!, 5);
      expect(values.v0[0]).toBeCloseTo(0.2 * values.threshold[0]!, 5);
    });
    expect(paper.layers.every((l) => l.coarse!.kept && l.coarse!.theta === seen.atJointStart[l.layer]!.threshold[0] && l.fine === null)).toBe(true);
    // No per-layer fine pass; the joint pass per (position, neuron) for the whole block, batchmean, Adam 3e-3.
    expect(seen.startFine).toBe(0);
    expect(seen.startJoint).toEqual([{ positions: 24, lr: 3e-3, alignWeight: 1, klReduction: 'batchmean' }]);
    expect(paper.joint!.epochs).toHaveLength(3);
    expect(paper.joint!.kept).toBe(3);
    expect(paper.evaluations.fine).toBeUndefined();
    expect(paper.recipe).toMatchObject({ name: 'paper', positions: 24, jointEpochs: 3, jointLr: 3e-3, klReduction: 'batchmean', keptEpoch: 'last' });
    // The folder: per-(position, neuron) values [block, d_ff], the format's config, the recipe in the header's metadata.
    const written = await readSpikingWeights(out, 2, 64, true);
    expect(written.neurons!.map((n) => n.shape)).toEqual([
      [24, 64],
      [24, 64],
    ]);
    expect((await readSpikingConfig(out))!.calibration).toBe('neuron');
    const { metadata } = await readSafetensorsHeader(join(out, SPIKING_WEIGHTS_FILE));
    expect(metadata.calibration_recipe).toBe('paper');
    expect(JSON.parse(metadata.calibration_recipe_settings!)).toEqual(paper.recipe);
    // The default recipe records itself too.
    expect(report.recipe).toMatchObject({ name: 'app', start: 'searched', klReduction: 'position', keptEpoch: 'lowest KL on the calibration text' });
    // The reference recipe sets the level and the passes itself.
    expect(calibrateSettings.safeParse({ ...base, outDir: out, recipe: 'paper', maxPositions: 8 }).success).toBe(false);
    expect(calibrateSettings.safeParse({ ...base, outDir: out, recipe: 'paper', level: 'layer' }).success).toBe(false);
  });

  it('resumes a cancelled run without redoing its finished layers, to the same result', async () => {
    const out = join(temp.path, 'resumed');
    const settings = calibrateSettings.parse({ ...base, outDir: out });
    const first: string[] = [];
    const cancelled = context((u, abort) => u.message === 'Coarse pass, layer 1 of 2 done' && abort());
    await expect(runCalibration(settings, cancelled, countingEngine(first))).rejects.toBeInstanceOf(JobCancelledError);
    expect(first).toEqual(['alignLoss 0', 'alignLoss 1', 'coarse 0']);

    // A checkpoint saved before there were recipes (no "recipe" in its settings) followed this app's.
    const stateFile = join(out, CALIBRATION_CHECKPOINT_DIR, CALIBRATION_STATE_FILE);
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { settings: Record<string, unknown> };
    delete state.settings.recipe;
    writeFileSync(stateFile, JSON.stringify(state));
    await expect(runCalibration({ ...settings, recipe: 'paper', resume: true }, context(), loadNative())).rejects.toThrow(/different settings \(recipe\)/);

    const second: string[] = [];
    const stopInJoint = context((u, abort) => u.message.includes('epoch 2 of 4 done') && abort());
    await expect(runCalibration({ ...settings, resume: true }, stopInJoint, countingEngine(second))).rejects.toBeInstanceOf(JobCancelledError);
    expect(second).toEqual(['coarse 1', 'startFine 0', 'startFine 1', 'startJoint']);

    // Cancelled half way, the joint pass runs again whole, from the values the fine pass left.
    const third: string[] = [];
    const resumed = await runCalibration({ ...settings, resume: true }, context(), countingEngine(third));
    expect(third).toEqual(['startJoint']);
    expect(resumed.layers).toEqual(report.layers);
    expect(resumed.joint).toEqual(report.joint);
    expect(resumed.evaluations).toEqual(report.evaluations);
    const a = await readSpikingWeights(out, 2, 64, true);
    const b = await readSpikingWeights(calibrated, 2, 64, true);
    expect(a.neurons).toEqual(b.neurons);
  });

  it('refuses what it cannot calibrate, in words', async () => {
    const out = join(temp.path, 'refused');
    await expect(runCalibration(calibrateSettings.parse({ ...base, modelDir: ann, outDir: out }), context(), loadNative())).rejects.toThrow(
      /not a converted model.*fas finetune/,
    );
    await expect(runCalibration(calibrateSettings.parse({ ...base, modelDir: calibrated, outDir: out }), context(), loadNative())).rejects.toThrow(
      /already calibrated/,
    );
    await expect(runCalibration(calibrateSettings.parse({ ...base, outDir: out, resume: true }), context(), loadNative())).rejects.toThrow(
      /no calibration checkpoint to resume/,
    );
    await expect(runCalibration(calibrateSettings.parse({ ...base, outDir: stage1 }), context(), loadNative())).rejects.toThrow(/is the job's input/);
  });

  it('runs from the command line and prints the report', async () => {
    const cli = fileURLToPath(new URL('../../dist/electron/cli/fas.js', import.meta.url));
    const out = join(temp.path, 'cli');
    const args = [cli, 'calibrate', stage1, '--data', data, '--T', String(T), '--out', out, '--level', 'layer', '--samples', '8', '--block', '24'];
    const { stdout } = await promisify(execFile)(process.execPath, args);
    expect(stdout).toContain(`per-layer calibration at T = ${T} on 8 sequences of 24 tokens`);
    expect(stdout).toContain(`SNN at T=${T}, after the coarse pass`);
    await expect(promisify(execFile)(process.execPath, args)).rejects.toThrow(/already holds an earlier run's output/);
    const json = await promisify(execFile)(process.execPath, [...args, '--overwrite', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ level: 'layer', timesteps: T, samples: 8 });

    const paper = [cli, 'calibrate', stage1, '--data', data, '--T', String(T), '--out', join(temp.path, 'cli-paper'), '--samples', '4', '--block', '24'];
    await expect(promisify(execFile)(process.execPath, [...paper, '--recipe', 'paper', '--joint-epochs', '2', '--level', 'neuron'])).rejects.toThrow(
      /--recipe paper sets --level, --joint-epochs itself, as the FAS reference code does; leave them out/,
    );
    const paperRun = await promisify(execFile)(process.execPath, [...paper, '--recipe', 'paper', '--json']);
    expect(JSON.parse(paperRun.stdout)).toMatchObject({ recipe: { name: 'paper', positions: 24, jointEpochs: 3, klReduction: 'batchmean' }, samples: 4 });
  });
});
