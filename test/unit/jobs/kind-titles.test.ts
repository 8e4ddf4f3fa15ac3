// Job titles name what a run does: a stage 1 or a conversion at every layer says so.
import { describe, expect, it } from 'vitest';
import { jobKinds } from '../../../electron/core/jobs/kinds.js';

describe('job kind titles', () => {
  it('say when a run spikes at every layer', () => {
    const params = { modelDir: '/m', dataPath: '/d', outDir: '/o', steps: 6, timesteps: 8 };
    const finetune = (scope: string) => jobKinds.finetune.title(jobKinds.finetune.params.parse({ ...params, scope }));
    expect(finetune('all')).toBe('Fine-tune m with QCFS (6 steps, every layer)');
    expect(finetune('ffn')).toBe('Fine-tune m with QCFS (6 steps)');
    expect(jobKinds.convert.title(jobKinds.convert.params.parse({ ...params, scope: 'all' }))).toBe('Convert m into a spiking model (T = 8, every layer)');
  });
});
