// "~" in a typed path is the home folder, in every job's folders as in the data check.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evalSettings } from '../../../electron/core/eval/evaluate.js';
import { expandHome } from '../../../electron/core/storage/home-path.js';
import { finetuneSettings } from '../../../electron/core/training/settings.js';

describe('paths as people type them', () => {
  it('expands ~ and ~/ only', () => {
    expect(expandHome('~')).toBe(homedir());
    expect(expandHome('~/models/gpt2')).toBe(join(homedir(), 'models/gpt2'));
    expect(expandHome('/data/~/x')).toBe('/data/~/x');
    expect(expandHome('~other/x')).toBe('~other/x');
    expect(expandHome('relative/dir')).toBe('relative/dir');
  });

  it('expands the folders of a job', () => {
    const params = finetuneSettings.parse({ modelDir: '~/models/gpt2', dataPath: '~/texts', outDir: '~/models/gpt2-stage1' });
    expect([params.modelDir, params.dataPath, params.outDir]).toEqual([
      join(homedir(), 'models/gpt2'),
      join(homedir(), 'texts'),
      join(homedir(), 'models/gpt2-stage1'),
    ]);
    expect(evalSettings.parse({ modelDir: '~/m' }).modelDir).toBe(join(homedir(), 'm'));
  });
});
