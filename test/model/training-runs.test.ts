// Training runs through the API with the real engine on a tiny GPT-2: pause keeps a checkpoint,
// 'jobs.resume' continues the same run from it to the end (one record, one series of chart points,
// the measurements from before the first step kept), and the finished model lands in the library
// with its source as parent. Needs `npm run build:core` (jobs run the compiled files).
import { existsSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TrainingResult } from '../../electron/api/contract.js';
import { AppCore } from '../../electron/core/app-core.js';
import { tempDir } from '../helpers/tiny-models.js';
import { tinyWorkspace } from '../helpers/tiny-workspace.js';

describe('training runs: pause, resume, lineage', async () => {
  const { path: tempPath, core, model: parent, dataPath } = await tinyWorkspace();
  const source = parent.path;
  const base = { modelDir: source, dataPath, batchSize: 2, blockSize: 16, valEvery: 10, saveEvery: 50, validationFraction: 0.1 };

  it('offers the schema defaults of a kind', async () => {
    const defaults = await core.call('jobs.defaults', { kind: 'finetune' });
    expect(defaults).toMatchObject({ steps: 200, lr: 1e-4, thresholdLr: 1e-2, qcfs: { levels: 8, initialLambda: 2 }, resume: false });
    expect(defaults).not.toHaveProperty('modelDir');
    await expect(core.call('jobs.defaults', { kind: 'sing' })).rejects.toThrow('Unknown job kind "sing"');
  });

  it('adds a finished run to the library with its source as parent', async () => {
    const outDir = join(tempPath, 'out-done');
    const job = await core.call('jobs.start', { kind: 'finetune', params: { ...base, outDir, steps: 4 } });
    const done = await core.jobs.waitFor(job.id);
    expect(done.state).toBe('done');
    expect(done.message).toBe('Finished');
    // The starting validation (step 0) and every step, in order.
    expect((await core.call('jobs.metrics', { id: job.id })).map((row) => row.step)).toEqual([0, 1, 2, 3, 4]);
    const made = (await core.call('models.list', {})).find((m) => m.path === outDir);
    expect(made).toMatchObject({ parentId: parent.id, stage: 'qcfs', name: 'out-done' });
    expect(await core.call('jobs.resumeInfo', { id: job.id })).toEqual({
      canResume: false,
      reason: 'This run has finished.',
      checkpoint: null,
      resumedBy: null,
    });
  });

  it('pauses a run, resumes it as the same run from its checkpoint and finishes it', async () => {
    const outDir = join(tempPath, 'out-paused');
    // Big enough steps (about 100 a second here) that the pause lands well before the end, even on a busy machine.
    const params = { ...base, outDir, batchSize: 16, blockSize: 32, steps: 300, valEvery: 100 };
    const job = await core.call('jobs.start', { kind: 'finetune', params });
    await new Promise<void>((resolve) => {
      const off = core.onEvent((e) => {
        if (e.name === 'job.progress' && e.data.jobId === job.id && (e.data.metrics?.step ?? 0) >= 5) {
          off();
          void core.call('jobs.pause', { id: job.id }).then(() => resolve());
        }
      });
    });
    expect((await core.jobs.waitFor(job.id)).state).toBe('paused');
    const info = await core.call('jobs.resumeInfo', { id: job.id });
    expect(info).toMatchObject({ canResume: true, reason: null, resumedBy: null, checkpoint: { kind: 'training', steps: 300 } });
    if (info.checkpoint?.kind !== 'training') throw new Error('expected a training checkpoint');
    const pausedAt = info.checkpoint.step;
    expect(pausedAt).toBeGreaterThanOrEqual(5);
    expect(existsSync(join(outDir, 'checkpoint', 'trainer_state.json'))).toBe(true);

    const runs = (await core.call('jobs.list', {})).length;
    const resumed = await core.call('jobs.resume', { id: job.id });
    expect(resumed).toMatchObject({ id: job.id, kind: 'finetune', resumes: 1, params: { ...params, resume: true } });
    // It continues in place: it cannot be resumed again while it runs.
    expect(await core.call('jobs.resumeInfo', { id: job.id })).toMatchObject({ canResume: false, reason: 'This run has not stopped.' });
    await expect(core.call('jobs.resume', { id: job.id })).rejects.toThrow(/cannot be resumed: This run has not stopped/);

    const done = await core.jobs.waitFor(job.id);
    expect(done.state).toBe('done');
    expect((await core.call('jobs.list', {})).length).toBe(runs);
    // One series from the starting validation to the last step, with no step missing or repeated.
    const steps = (await core.call('jobs.metrics', { id: job.id })).map((row) => row.step);
    expect(steps).toEqual(Array.from({ length: 301 }, (_, i) => i));
    // The measurements from before the first step are kept through the pause.
    const result = done.result as TrainingResult;
    expect(result.annPerplexityBefore).toBeGreaterThan(1);
    expect(result.perplexityBefore).toBeGreaterThan(1);
    expect(result.perplexityBefore).toBe((await core.call('jobs.metrics', { id: job.id }))[0]!.valPerplexity);
    expect((await core.call('models.list', {})).find((m) => m.path === outDir)?.parentId).toBe(parent.id);
  });

  it('does not resume training that failed before a checkpoint', async () => {
    const failed = await core.call('jobs.start', {
      kind: 'finetune',
      params: { ...base, dataPath: join(tempPath, 'missing.txt'), outDir: join(tempPath, 'out-failed') },
    });
    expect((await core.jobs.waitFor(failed.id)).state).toBe('failed');
    const info = await core.call('jobs.resumeInfo', { id: failed.id });
    expect(info.canResume).toBe(false);
    expect(info.reason).toMatch(/before saving a checkpoint/);
  });
});

describe('training data', () => {
  it('lists the bundled corpora and checks a path the way training reads it', async () => {
    const temp = await tempDir();
    const core = new AppCore({ workspaceDir: join(temp.path, 'workspace'), jobKinds: {} });
    const corpora = await core.call('data.corpora', {});
    expect(corpora.map((c) => c.id).sort()).toEqual(['moby-dick', 'sotu']);
    const moby = await core.call('data.check', { path: corpora.find((c) => c.id === 'moby-dick')!.path });
    expect(moby.format).toBe('text');
    expect(moby.files).toBeGreaterThan(100);

    writeFileSync(join(temp.path, 'qa.jsonl'), '{"text": "hello"}\n');
    expect(await core.call('data.check', { path: join(temp.path, 'qa.jsonl') })).toEqual({
      path: join(temp.path, 'qa.jsonl'),
      format: 'jsonl',
      files: 1,
      bytes: 18,
    });
    writeFileSync(join(temp.path, 'empty.txt'), '');
    await expect(core.call('data.check', { path: join(temp.path, 'empty.txt') })).rejects.toThrow('the file is empty');
    await expect(core.call('data.check', { path: join(temp.path, 'nope') })).rejects.toThrow(/does not exist/);
    // Binary files are refused up front, in words: weights, and anything with zero bytes or that is not UTF-8.
    writeFileSync(join(temp.path, 'model.safetensors'), Buffer.concat([Buffer.from([8, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{"a":1}    ')]));
    await expect(core.call('data.check', { path: join(temp.path, 'model.safetensors') })).rejects.toThrow(
      `${join(temp.path, 'model.safetensors')} is not text: it holds binary data (model weights). Choose a .txt, .md or .jsonl file, or a folder of them.`,
    );
    writeFileSync(join(temp.path, 'latin1.txt'), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x6f, 0x6b]));
    await expect(core.call('data.check', { path: join(temp.path, 'latin1.txt') })).rejects.toThrow(
      /latin1\.txt is not text: it holds binary data \(zero bytes or bytes that are not UTF-8 text\)/,
    );
    // A character cut at the end of the sampled start is still text.
    writeFileSync(join(temp.path, 'long.txt'), 'é'.repeat(40_000));
    expect((await core.call('data.check', { path: join(temp.path, 'long.txt') })).format).toBe('text');
    // "~" is the home folder.
    await expect(core.call('data.check', { path: '~/fas-no-such-folder-here' })).rejects.toThrow(
      `${join(homedir(), 'fas-no-such-folder-here')} does not exist`,
    );
    await temp.cleanup();
  });
});
