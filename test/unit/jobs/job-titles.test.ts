// A run's title names the model by its folder and the task by its title, never by a whole path or a code.
import { describe, expect, it } from 'vitest';
import { jobKinds } from '../../../electron/core/jobs/kinds.js';

describe('run titles', () => {
  const modelDir = '/home/ada/FAS Spiking LLM/models/Demo-GPT-2-stage2/';
  /** Settings as a run keeps them: the kind's schema fills the rest. */
  const evaluate = (task: string) => jobKinds.evaluate.title(jobKinds.evaluate.params.parse({ modelDir, task }));
  it('reads as words', () => {
    expect(evaluate('ppl')).toBe('Evaluate Demo-GPT-2-stage2: Perplexity on Moby Dick');
    expect(evaluate('moby-last-word')).toBe('Evaluate Demo-GPT-2-stage2: Last word (Moby Dick)');
    expect(evaluate('/data/my-texts/')).toBe('Evaluate Demo-GPT-2-stage2: my-texts');
    const folders = { dataPath: '/d', outDir: '/o' };
    expect(jobKinds.finetune.title(jobKinds.finetune.params.parse({ modelDir: '/m/gpt2', steps: 200, ...folders }))).toBe(
      'Fine-tune gpt2 with QCFS (200 steps)',
    );
    expect(jobKinds.calibrate.title(jobKinds.calibrate.params.parse({ modelDir: '/m/gpt2-stage1', timesteps: 8, ...folders }))).toBe(
      'Calibrate the neurons of gpt2-stage1 (T = 8)',
    );
  });
});
