// The folder rule through the CLI and the API (the repros of issue 15): `--out` over a folder that
// holds the job's own model and data, or over a folder the app did not write, is refused and loses
// nothing; a queued-then-cancelled calibration resumes without overwriting; and defaults that depend
// on the model fit it (the tiny models have 32 positions, less than the usual block size of 128).
// Needs `npm run build:core` (the CLI and the job processes run the compiled files).
import { execFile } from 'node:child_process';
import { readdirSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tinyWorkspace } from '../../helpers/tiny-workspace.js';
import { TINY_POSITIONS } from '../../helpers/tiny-models.js';

const cli = fileURLToPath(new URL('../../../dist/electron/cli/fas.js', import.meta.url));
async function fas(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    return err as { code: number; stdout: string; stderr: string };
  }
}

describe('the output-folder rule', async () => {
  const { path: root, core, model, dataPath } = await tinyWorkspace();
  // As in the issue: ./models/gpt2 and ./models/corpus.txt.
  const models = join(root, 'models');
  const gpt2 = join(models, 'gpt2');
  const corpus = join(models, 'corpus.txt');
  mkdirSync(gpt2, { recursive: true });
  for (const name of readdirSync(model.path)) writeFileSync(join(gpt2, name), readFileSync(join(model.path, name)));
  writeFileSync(corpus, readFileSync(dataPath));
  const documents = join(root, 'documents');
  mkdirSync(documents);
  writeFileSync(join(documents, 'letter.txt'), 'Dear reader');
  const snapshot = (dir: string) => readdirSync(dir, { recursive: true }).map(String).sort();
  const modelsBefore = snapshot(models);

  it('fas train --out <the folder holding the model and data> --overwrite is refused and deletes nothing', async () => {
    const res = await fas('train', gpt2, '--data', corpus, '--out', models, '--overwrite', '--steps', '1');
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/holds the job's input .*Choose a new folder outside the model and the data/);
    expect(snapshot(models)).toEqual(modelsBefore);
  });

  it('fas train --overwrite over a folder the app did not write is refused, saying why and what to do', async () => {
    const res = await fas('train', gpt2, '--data', corpus, '--out', documents, '--overwrite', '--steps', '1');
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/was not created by this app, so it is never replaced or deleted.*choose a new or empty output folder/);
    expect(readdirSync(documents)).toEqual(['letter.txt']);
  });

  it('overwrite: true through the API fails the job with the same message and keeps the folders', async () => {
    for (const outDir of [models, documents]) {
      const job = await core.call('jobs.start', { kind: 'train', params: { modelDir: gpt2, dataPath: corpus, outDir, overwrite: true, steps: 1 } });
      const done = await core.jobs.waitFor(job.id);
      expect(done.state).toBe('failed');
      expect(done.error).toMatch(/holds the job's input|was not created by this app/);
    }
    expect(snapshot(models)).toEqual(modelsBefore);
    expect(readdirSync(documents)).toEqual(['letter.txt']);
  });

  it('a calibration queued then cancelled resumes without switching overwriting on', async () => {
    const busy = await core.call('jobs.start', {
      kind: 'train',
      params: { modelDir: gpt2, dataPath: corpus, outDir: join(root, 'busy'), steps: 100000, batchSize: 1, blockSize: 8 },
    });
    const queued = await core.call('jobs.start', { kind: 'calibrate', params: { modelDir: gpt2, dataPath: corpus, outDir: documents } });
    expect(queued.state).toBe('queued');
    await core.call('jobs.cancel', { id: queued.id });
    await core.call('jobs.cancel', { id: busy.id });
    const resumed = await core.call('jobs.resume', { id: queued.id });
    expect(resumed.params.overwrite).toBe(false);
    const done = await core.jobs.waitFor(resumed.id);
    expect(done.state).toBe('failed');
    expect(readdirSync(documents)).toEqual(['letter.txt']);
  });

  it(`uses a block size that fits a ${TINY_POSITIONS}-position model when none is given (CLI and API)`, async () => {
    const stage1 = join(root, 'stage1');
    const finetune = await fas('finetune', gpt2, '--data', corpus, '--out', stage1, '--steps', '1', '--val-every', '1');
    expect(finetune.code, finetune.stderr).toBe(0);
    const calibrate = await fas(
      'calibrate',
      stage1,
      '--data',
      corpus,
      '--out',
      join(root, 'stage2'),
      '--T',
      '2',
      '--samples',
      '2',
      '--level',
      'layer',
      '--json',
    );
    expect(calibrate.code, calibrate.stderr).toBe(0);
    expect(JSON.parse(calibrate.stdout).blockSize).toBe(TINY_POSITIONS);
    const job = await core.call('jobs.start', {
      kind: 'calibrate',
      params: { modelDir: stage1, dataPath: corpus, outDir: join(root, 'stage2-api'), timesteps: 2, samples: 2, level: 'layer' },
    });
    const done = await core.jobs.waitFor(job.id);
    expect(done.error).toBeNull();
    expect((done.result as { blockSize: number }).blockSize).toBe(TINY_POSITIONS);
    expect((await core.call('jobs.defaults', { kind: 'calibrate' })).blockSize).toBe(128);
  });
});
