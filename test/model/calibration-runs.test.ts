// Calibration runs through the API with the real engine on a tiny GPT-2: a paused run keeps its
// checkpoint, 'jobs.resumeInfo' says where it continues, 'jobs.resume' finishes it as the same run
// (its "before" measurements kept, its chart rows each naming their stage), and the calibrated model
// lands in the library. Needs `npm run build:core` (jobs run the compiled files).
import { join } from 'node:path';
import type { CalibrationResult } from '../../electron/api/contract.js';
import { liveAlignErrors, liveJointKl } from '../../renderer/src/wizards/calibrate/calibrate-form.js';
import { describe, expect, it } from 'vitest';
import { tinyWorkspace } from '../helpers/tiny-workspace.js';

describe('calibration runs: cancel and resume', async () => {
  const { path: tempPath, core, model, dataPath } = await tinyWorkspace();
  const source = model.path;
  const stage1 = join(tempPath, 'stage1');
  const finetune = await core.call('jobs.start', {
    kind: 'finetune',
    params: { modelDir: source, dataPath, outDir: stage1, steps: 2, batchSize: 2, blockSize: 16, valEvery: 2 },
  });
  await core.jobs.waitFor(finetune.id);

  it('resumes a paused calibration as the same run from its checkpoint and adds the model to the library', async () => {
    const outDir = join(tempPath, 'calibrated');
    const params = { modelDir: stage1, dataPath, outDir, timesteps: 4, samples: 8, blockSize: 16, batchSize: 2, epochs: 100, jointEpochs: 2 };
    const job = await core.call('jobs.start', { kind: 'calibrate', params });
    await new Promise<void>((resolve) => {
      const off = core.onEvent((e) => {
        if (e.name === 'job.progress' && e.data.jobId === job.id && e.data.message === 'Coarse pass, layer 1 of 2 done') {
          off();
          void core.call('jobs.pause', { id: job.id }).then(() => resolve());
        }
      });
    });
    expect((await core.jobs.waitFor(job.id)).state).toBe('paused');
    const info = await core.call('jobs.resumeInfo', { id: job.id });
    expect(info).toMatchObject({ canResume: true, reason: null, resumedBy: null, checkpoint: { kind: 'calibration' } });
    if (info.checkpoint?.kind !== 'calibration') throw new Error('expected a calibration checkpoint');
    expect(info.checkpoint.next).toMatch(/^(the coarse pass, layer 2 of 2|the fine pass, layer [12] of 2|the joint pass)$/);

    const resumed = await core.call('jobs.resume', { id: job.id });
    expect(resumed).toMatchObject({ id: job.id, kind: 'calibrate', resumes: 1, params: { ...params, resume: true } });
    const done = await core.jobs.waitFor(job.id);
    expect(done.state).toBe('done');
    const result = done.result as CalibrationResult;
    expect(result).toMatchObject({ outDir, level: 'neuron', joint: { epochs: [{}, {}] } });
    expect((await core.call('models.list', {})).find((m) => m.path === outDir)).toMatchObject({ stage: 'calibrated' });
    expect(await core.call('jobs.resumeInfo', { id: job.id })).toMatchObject({ canResume: false, reason: 'This run has finished.' });

    // The uncalibrated model's measurements, made before the pause, are in the result.
    expect(result.evaluations.before?.snnPerplexity).toBeGreaterThan(1);
    const before = result.layers.map((layer) => layer.before);
    for (const value of before) expect(value).toBeGreaterThan(0);
    // The live chart reads every stage's bars from the rows of both parts of the run, each in its stage.
    const rows = await core.call('jobs.metrics', { id: job.id });
    expect(rows.filter((row) => row.layer !== undefined).every((row) => row.stage !== undefined)).toBe(true);
    const live = liveAlignErrors(rows, 2);
    expect(live.before).toEqual(before);
    expect(live.coarse).toEqual(result.layers.map((layer) => layer.coarse!.loss));
    expect(live.fine).toEqual(result.layers.map((layer) => layer.fine!.losses.at(-1)));
    expect(liveJointKl(rows)).toEqual(result.joint!.epochs.map((epoch) => epoch.calibrationKl));
  });

  it('does not resume runs that neither train nor calibrate', async () => {
    const evaluation = await core.call('jobs.start', { kind: 'evaluate', params: { modelDir: join(tempPath, 'missing') } });
    await core.jobs.waitFor(evaluation.id);
    expect(await core.call('jobs.resumeInfo', { id: evaluation.id })).toMatchObject({
      canResume: false,
      reason: 'Only training and calibration runs can be paused and resumed.',
    });
  });
});
