// The evaluation wizard's form logic (no browser): defaults from the job kind's schema, the list of
// T as people type it, the checks in words, the job parameters, and the words and units of results.
import { describe, expect, it } from 'vitest';
import { evalSettings } from '../../../electron/core/eval/evaluate.js';
import { paramLimits } from '../../../electron/core/api/param-limits.js';
import { paramDefaults } from '../../../electron/core/jobs/defaults.js';
import { jobKinds } from '../../../electron/core/jobs/kinds.js';
import { rowWords } from '../../../electron/shared/reply-words.js';
import {
  evaluateParams,
  formatJoules,
  parseTimesteps,
  settingsFromDefaults,
  settingsProblem,
  withPreset,
} from '../../../renderer/src/wizards/evaluate/evaluate-form.js';

const defaults = settingsFromDefaults(paramDefaults(jobKinds, 'evaluate'));
const limits = paramLimits(jobKinds, 'evaluate');

describe('evaluation form', () => {
  it('starts from the job kind’s defaults and turns them back into the same job', () => {
    expect(defaults).toEqual({ timesteps: '1, 2, 4, 8, 16, 32', limit: null, blockSize: 128, batchSize: 4 });
    expect(evalSettings.parse(evaluateParams(defaults, '/m', 'ppl', true))).toEqual(evalSettings.parse({ modelDir: '/m' }));
    // An original model has no T: the job's default list is left alone (and unused).
    expect(evaluateParams({ ...defaults, limit: 256 }, '/m', 'moby-last-word', false)).toEqual({
      modelDir: '/m',
      task: 'moby-last-word',
      limit: 256,
      blockSize: 128,
      batchSize: 4,
    });
  });

  it('reads the list of T as people type it', () => {
    expect(parseTimesteps('4, 2 2;1')).toEqual({ values: [1, 2, 4], problem: null });
    expect(parseTimesteps('  ').problem).toBe('Give at least one number of timesteps T, e.g. 1, 2, 4, 8.');
    expect(parseTimesteps('1, 2.5', limits.timesteps).problem).toBe('"2.5" is not a number of timesteps: each T must be a whole number from 1 to 1,024.');
    expect(parseTimesteps('2048', limits.timesteps).problem).toMatch(/^"2048" is not/);
    // A list already checked: only whole numbers above 0.
    expect(parseTimesteps('2048')).toEqual({ values: [2048], problem: null });
    expect(parseTimesteps('0').problem).toBe('"0" is not a number of timesteps: each T must be a whole number of at least 1.');
  });

  it('says what is wrong in words, and ignores T for an original model', () => {
    expect(settingsProblem(defaults, true, limits)).toBeNull();
    expect(settingsProblem({ ...defaults, timesteps: 'eight' }, true, limits)).toMatch(/^"eight" is not a number of timesteps/);
    expect(settingsProblem({ ...defaults, timesteps: 'eight' }, false, limits)).toBeNull();
    expect(settingsProblem({ ...defaults, limit: 0 }, false, limits)).toBe(
      'The limit must be a whole number of at least 1. Leave it empty for the task’s default.',
    );
    expect(settingsProblem({ ...defaults, blockSize: 1 }, false, limits)).toBe('The block size must be a whole number of at least 2.');
    expect(settingsProblem({ ...defaults, batchSize: 0 }, false, limits)).toBe('The batch size must be a whole number of at least 1.');
    // Longer than the model's context is fine: the job cuts the windows to it.
    expect(settingsProblem({ ...defaults, blockSize: 4096 }, true, limits)).toBeNull();
  });

  it('applies only the known settings of a preset', () => {
    expect(withPreset(defaults, { timesteps: '8, 16', limit: 100, blockSize: '64', stray: true })).toEqual({ ...defaults, timesteps: '8, 16', limit: 100 });
  });

  it('names rows and energies for people', () => {
    expect([rowWords({ mode: 'ann', timesteps: null }), rowWords({ mode: 'qcfs', timesteps: null }), rowWords({ mode: 'snn', timesteps: 4 })]).toEqual([
      'Original (ANN)',
      'Fine-tuned (stage 1), not spiking',
      'Spiking, T = 4',
    ]);
    expect([formatJoules(0), formatJoules(1.99e-5), formatJoules(2.0287e-7), formatJoules(4.6e-12)]).toEqual(['0', '19.9 µJ', '202.9 nJ', '4.6 pJ']);
  });
});
