// A job setting's bounds, read from the job kind's schema ('jobs.limits') and checked and said in words
// by the wizards (no browser), so each limit exists once, in the schema.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppCore } from '../../../electron/core/app-core.js';
import { paramLimits } from '../../../electron/core/api/param-limits.js';
import { jobKinds } from '../../../electron/core/jobs/kinds.js';
import { limitProblem, limitWords, withinLimits } from '../../../renderer/src/wizards/limits.js';
import { tempDir } from '../../helpers/tiny-models.js';

describe('settings limits', () => {
  it('reads every numeric bound of a schema: defaults, optional and nested settings, lists, exclusive bounds', () => {
    const kinds = {
      k: {
        params: z.object({
          t: z.number().int().min(1).max(1024).default(8),
          n: z.number().int().positive().optional(),
          lr: z.number().positive().max(1).default(1e-4),
          list: z.array(z.number().int().min(1).max(64)).default([4]),
          qcfs: z
            .object({ levels: z.number().int().min(1).max(64) })
            .nullable()
            .default(null),
          name: z.string().default('x'),
        }),
      },
    };
    expect(paramLimits(kinds, 'k')).toEqual({
      t: { min: 1, above: false, max: 1024, whole: true },
      n: { min: 1, above: false, max: null, whole: true },
      lr: { min: 0, above: true, max: 1, whole: false },
      list: { min: 1, above: false, max: 64, whole: true },
      'qcfs.levels': { min: 1, above: false, max: 64, whole: true },
    });
    expect(() => paramLimits(kinds, 'sing')).toThrow('Unknown job kind "sing".');
  });

  it("gives the app's job kinds' bounds through the API: the largest T once, in the schema", async () => {
    const temp = await tempDir();
    const core = new AppCore({ workspaceDir: temp.path });
    const convert = await core.call('jobs.limits', { kind: 'convert' });
    expect(convert.timesteps).toEqual(paramLimits(jobKinds, 'calibrate').timesteps);
    expect(convert.timesteps).toEqual({ min: 1, above: false, max: 1024, whole: true });
    expect((await core.call('jobs.limits', { kind: 'finetune' }))['qcfs.levels']).toEqual({ min: 1, above: false, max: 64, whole: true });
    await temp.cleanup();
  });

  it('checks a value and says what is accepted, in words', () => {
    const t = { min: 1, above: false, max: 1024, whole: true };
    const lr = { min: 0, above: true, max: 1, whole: false };
    expect(withinLimits(1024, t)).toBe(true);
    expect(withinLimits(2.5, t)).toBe(false);
    expect(withinLimits(0, lr)).toBe(false);
    expect(limitProblem('T', 2048, t)).toBe('T must be a whole number from 1 to 1,024.');
    expect(limitProblem('The learning rate', 0, lr)).toBe('The learning rate must be a number above 0, at most 1.');
    expect(limitWords({ min: 0, above: false, max: null, whole: true })).toBe('a whole number of at least 0');
    expect(limitProblem('Steps', NaN, undefined)).toBe('Steps must be a number.');
  });
});
