// The cluster job folder without Python: the block order written for the script is the native trainer's
// (TrainBatches), the job describes the model and the spiking output (with scope all's starting
// thresholds), and import-job explains what is missing.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AppCore } from '../../../electron/core/app-core.js';
import { exportClusterJob } from '../../../electron/core/cluster/export-job.js';
import { readJobFile } from '../../../electron/core/cluster/job-format.js';
import { exportJobSettings } from '../../../electron/core/cluster/settings.js';
import { loadJobDataset, TrainBatches } from '../../../electron/core/data/index.js';
import { openModelFolder } from '../../../electron/core/model/folder.js';
import { loadTokenizer } from '../../../electron/core/model/tokenizer.js';
import { readAllScopeWeights } from '../../../electron/core/spiking/spiking-weights.js';
import { tempDir, writeTinyModel } from '../../helpers/tiny-models.js';

describe('cluster job export and import', async () => {
  const temp = await tempDir();
  afterAll(() => temp.cleanup());
  const model = join(temp.path, 'model');
  await writeTinyModel(model, 'qwen2');
  const data = join(temp.path, 'data.txt');
  writeFileSync(data, 'Call me Ishmael. Some years ago, never mind how long precisely, I went to sea.\n\n'.repeat(20));
  const settings = exportJobSettings.parse({
    modelDir: model,
    dataPath: data,
    jobDir: join(temp.path, 'job'),
    steps: 7,
    batchSize: 3,
    blockSize: 12,
    gradAccum: 2,
    seed: 5,
  });
  const result = await exportClusterJob(settings);
  const jobDir = result.jobDir;

  it("writes every step's blocks in the order the native trainer draws them", async () => {
    const source = await openModelFolder(model);
    const dataset = await loadJobDataset({ ...settings, blockSize: 12 }, (await loadTokenizer(source.tokenizerFiles, source.config)).forData());
    const batches = new TrainBatches(dataset, 3, { epoch: 0, index: 0, seed: 5 });
    const expected = Array.from({ length: 7 * 2 }, () => Array.from(batches.nextBlocks(), (b) => dataset.train.blockStarts[b]!)).flat();
    const job = await readJobFile(jobDir);
    const raw = readFileSync(join(jobDir, job.data.samples.file));
    const written = Array.from(new BigInt64Array(raw.buffer, raw.byteOffset, raw.length / 8), Number);
    expect(written).toEqual(expected);
    const ids = readFileSync(join(jobDir, job.data.train.ids.file));
    expect(Array.from(new Int32Array(ids.buffer, ids.byteOffset, ids.length / 4))).toEqual(Array.from(dataset.train.ids));
  });

  it('describes the model, the settings and the stage-1 output', async () => {
    const job = await readJobFile(jobDir);
    expect(job.spiking).toEqual({
      format: 'fas-spiking',
      version: 2,
      L: 8,
      T: 8,
      neuron: 'if-soft-reset',
      signed: true,
      site: 'ffn_act',
      calibration: 'none',
      scope: 'ffn',
      encoding: 'step',
    });
    expect(job.settings).toMatchObject({ steps: 7, batchSize: 3, blockSize: 12, gradAccum: 2, seed: 5, levels: 8, initialLambda: 2, scope: 'ffn' });
    const tensors = job.model.tensors as { canonical: string; hf: string }[];
    expect(tensors.find((t) => t.canonical === 'head.weight')?.hf).toBe('lm_head.weight');
    expect(job.model.copyFiles).toContain('tokenizer.json');
    expect(readFileSync(join(jobDir, 'launch.sh'), 'utf8')).toContain('--rdzv_backend=c10d');
    expect(readFileSync(join(jobDir, 'README.md'), 'utf8')).toContain('| 1 |');
    expect(result.memory[0]!.ddp).toBeGreaterThan(0);
  });

  it('refuses a folder that is not empty, and says what an unfinished job lacks', async () => {
    await expect(exportClusterJob({ ...settings, jobDir })).rejects.toThrow(/already exists and is not empty/);
    const core = new AppCore({ workspaceDir: join(temp.path, 'ws'), jobKinds: {} });
    await expect(core.call('cluster.importJob', { jobDir })).rejects.toThrow(/has not finished/);
    await expect(core.call('cluster.importJob', { jobDir: model })).rejects.toThrow(/not a job folder/);
  });

  it('in scope "all" carries every site\'s starting thresholds, measured by the engine on the training text', async () => {
    const core = new AppCore({ workspaceDir: join(temp.path, 'ws-all'), jobKinds: {} });
    const allDir = join(temp.path, 'all');
    await core.call('cluster.exportJob', { modelDir: model, dataPath: data, jobDir: allDir, scope: 'all', steps: 2, batchSize: 3, blockSize: 12 });
    const job = await readJobFile(allDir);
    expect(job.spiking).toMatchObject({ scope: 'all', encoding: 'layer', calibration: 'none' });
    expect(job.data.startThresholds).toBe('data/start-thresholds.safetensors');
    const spec = (await openModelFolder(model)).spec;
    copyFileSync(join(allDir, job.data.startThresholds!), join(temp.path, 'spiking.safetensors'));
    const thresholds = await readAllScopeWeights(temp.path, spec); // checks every name and width
    expect(thresholds.layers).toHaveLength(spec.numLayers);
    expect(thresholds.layers[0]!.qcfs).toHaveLength(spec.ffnSize);
    expect(readFileSync(join(allDir, 'README.md'), 'utf8')).toContain('every input of a matrix product is quantised');
    expect((await readJobFile(jobDir)).data.startThresholds).toBeNull();
  });
});
