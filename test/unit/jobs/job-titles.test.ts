// A run's title names the model by its folder and the task by its title, never by a whole path or a code.
import { describe, expect, it } from 'vitest';
import { jobKinds } from '../../../electron/core/jobs/kinds.js';

describe('run titles', () => {
  const modelDir = '/home/ada/FAS Spiking LLM/models/Demo-GPT-2-stage2/';
  it('reads as words', () => {
    expect(jobKinds.evaluate!.title({ modelDir, task: 'ppl' })).toBe('Evaluate Demo-GPT-2-stage2: Perplexity on Moby Dick');
    expect(jobKinds.evaluate!.title({ modelDir, task: 'moby-last-word' })).toBe('Evaluate Demo-GPT-2-stage2: Last word (Moby Dick)');
    expect(jobKinds.evaluate!.title({ modelDir, task: '/data/my-texts/' })).toBe('Evaluate Demo-GPT-2-stage2: my-texts');
    expect(jobKinds.finetune!.title({ modelDir: '/m/gpt2', steps: 200 })).toBe('Fine-tune gpt2 with QCFS (200 steps)');
    expect(jobKinds.calibrate!.title({ modelDir: '/m/gpt2-stage1', timesteps: 8 })).toBe('Calibrate the neurons of gpt2-stage1 (T = 8)');
  });
});
