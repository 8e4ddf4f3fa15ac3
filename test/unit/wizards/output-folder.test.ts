// The wizards' output-folder check (no browser): the same rule as the core's, told before the job
// starts: never a folder that holds, or lies inside, a model of the library or the job's text.
import { describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../../electron/api/contract.js';
import { outDirProblem } from '../../../renderer/src/wizards/output-folder.js';

const library = [{ id: 'a', name: 'GPT-2', path: '/home/me/models/gpt2' }] as ModelEntry[];

describe('output folder check', () => {
  it('refuses a folder that holds, is or lies inside a library model, or holds the text', () => {
    expect(outDirProblem('/home/me/models', library)).toMatch(/holds "GPT-2" from the library/);
    expect(outDirProblem('/home/me/models/gpt2/', library)).toMatch(/lives in that output folder/);
    expect(outDirProblem('/home/me/models/gpt2/out', library)).toMatch(/inside the folder of "GPT-2"/);
    expect(outDirProblem('C:\\data', [], 'C:\\data\\corpus.txt')).toMatch(/holds, or is inside, the text/);
    expect(outDirProblem('  ', library)).toMatch(/Choose an output folder/);
  });

  it('accepts a new folder beside them', () => {
    expect(outDirProblem('/home/me/models/gpt2-stage1-2026-01-01-1200', library, '/home/me/text.txt')).toBeNull();
  });
});
