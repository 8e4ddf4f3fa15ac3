import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobRecord } from '../../../electron/api/contract.js';
import { jobKinds } from '../../../electron/core/jobs/kinds.js';
import { addOutputToLibrary } from '../../../electron/core/jobs/lineage.js';
import { ModelLibrary } from '../../../electron/core/library/library.js';
import { writeSpikingConfig } from '../../../electron/core/spiking/spiking-config.js';
import { tempDir, writeTinyModel } from '../../helpers/tiny-models.js';

describe('lineage of a finished conversion', async () => {
  const temp = await tempDir();
  afterAll(() => temp.cleanup());

  it('adds both stages, each the child of the one before', async () => {
    const [source, stage1, stage2] = ['source', 'stage1', 'stage2'].map((n) => join(temp.path, n)) as [string, string, string];
    for (const dir of [source, stage1, stage2]) await writeTinyModel(dir, 'gpt2');
    await writeSpikingConfig(stage1, { L: 8, T: 8, neuron: 'if-soft-reset', signed: false, site: 'ffn_act', calibration: 'none' });
    await writeSpikingConfig(stage2, { L: 8, T: 8, neuron: 'if-soft-reset', signed: false, site: 'ffn_act', calibration: 'layer' });
    const library = new ModelLibrary(join(temp.path, 'workspace'));
    const origin = await library.open(source);
    const job = {
      kind: 'convert',
      params: { modelDir: source },
      result: { stage1: { outDir: stage1 }, calibration: { outDir: stage2 } },
    } as unknown as JobRecord;
    const added = await addOutputToLibrary(job, jobKinds.convert, library);
    const all = await library.list();
    const first = all.find((m) => m.path === stage1)!;
    expect(first).toMatchObject({ stage: 'qcfs', parentId: origin.id });
    expect(added).toMatchObject({ path: stage2, stage: 'calibrated', parentId: first.id });
  });

  it('adds nothing for jobs that make no model', async () => {
    const job = { kind: 'evaluate', params: { modelDir: temp.path }, result: {} } as unknown as JobRecord;
    expect(await addOutputToLibrary(job, jobKinds.evaluate, new ModelLibrary(join(temp.path, 'w2')))).toBeNull();
  });
});
