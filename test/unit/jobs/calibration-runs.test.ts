// Calibration runs through the API with the real engine on a tiny GPT-2: a cancelled run keeps its
// checkpoint, 'jobs.resumeInfo' says where it continues, 'jobs.resume' finishes it, and the
// calibrated model lands in the library. Needs `npm run build:core` (jobs run the compiled files).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tinyWorkspace } from '../../helpers/tiny-workspace.js';

describe('calibration runs: cancel and resume', async () => {
  const { path: tempPath, core, model, dataPath } = await tinyWorkspace();
  const source = model.path;
  const stage1 = join(tempPath, 'stage1');
  const finetune = await core.call('jobs.start', {
    kind: 'finetune',
    params: { modelDir: source, dataPath, outDir: stage1, steps: 2, batchSize: 2, blockSize: 16, valEvery: 2 },
  });
  await core.jobs.waitFor(finetune.id);

  it('resumes a cancelled calibration from its checkpoint and adds the model to the library', async () => {
    const outDir = join(tempPath, 'calibrated');
    const params = { modelDir: stage1, dataPath, outDir, timesteps: 4, samples: 8, blockSize: 16, batchSize: 2, epochs: 100, jointEpochs: 2 };
    const job = await core.call('jobs.start', { kind: 'calibrate', params });
    await new Promise<void>((resolve) => {
      const off = core.onEvent((e) => {
        if (e.name === 'job.progress' && e.data.jobId === job.id && e.data.message === 'Coarse pass, layer 1 of 2 done') {
          off();
          void core.call('jobs.cancel', { id: job.id }).then(() => resolve());
        }
      });
    });
    expect((await core.jobs.waitFor(job.id)).state).toBe('cancelled');
    const info = await core.call('jobs.resumeInfo', { id: job.id });
    expect(info).toMatchObject({ canResume: true, reason: null, resumedBy: null, checkpoint: { kind: 'calibration' } });
    if (info.checkpoint?.kind !== 'calibration') throw new Error('expected a calibration checkpoint');
    expect(info.checkpoint.next).toMatch(/^(the coarse pass, layer 2 of 2|the fine pass, layer [12] of 2|the joint pass)$/);

    const resumed = await core.call('jobs.resume', { id: job.id });
    expect(resumed).toMatchObject({ kind: 'calibrate', params: { ...params, resume: true } });
    expect(await core.call('jobs.resumeInfo', { id: job.id })).toMatchObject({ canResume: false, resumedBy: resumed.id });
    const done = await core.jobs.waitFor(resumed.id);
    expect(done.state).toBe('done');
    expect(done.result).toMatchObject({ outDir, level: 'neuron', joint: { epochs: [{}, {}] } });
    expect((await core.call('models.list', {})).find((m) => m.path === outDir)).toMatchObject({ stage: 'calibrated' });
    expect(await core.call('jobs.resumeInfo', { id: resumed.id })).toMatchObject({ canResume: false, reason: 'This run has finished.' });
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
