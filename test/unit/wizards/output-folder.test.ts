// The wizards' output folders (no browser): short, readable default names, unique only where they
// must be, and the same rule as the core's, told before the job starts: never a folder that holds, or
// lies inside, a model of the library or the job's text.
import { describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../../electron/api/contract.js';
import { folderSafe, libraryModelName, shortModelName } from '../../../electron/shared/model-names.js';
import { outDirProblem, stageOutDir } from '../../../renderer/src/wizards/output-folder.js';

const library = [{ id: 'a', name: 'GPT-2', path: '/home/me/models/gpt2' }] as ModelEntry[];
const none = { paths: [], names: [] };

describe('output folder names', () => {
  it('shortens a model name to what people call it', () => {
    expect(shortModelName('Demo GPT-2 (State of the Union, 4.3 M)')).toBe('Demo GPT-2');
    expect(shortModelName('Demo GPT-2 (2) · stage 1')).toBe('Demo GPT-2');
    expect(shortModelName('Demo-GPT-2-State-of-the-Union-4.3-M-stage1-2026-12-06-0522')).toBe('Demo-GPT-2-State-of-the-Union-4.3-M');
    expect(shortModelName('(only brackets)')).toBe('(only brackets)');
    expect(shortModelName('A very long model name that goes on and on about its training data')).toBe('A very long model name that goes on and');
    expect(folderSafe(' ..a/b:c*d? ')).toBe('a-b-c-d-');
    expect(folderSafe('...')).toBe('model');
  });

  it('names each stage after the short name, in the workspace path style', () => {
    expect(stageOutDir('/home/me/fas/', 'Demo GPT-2 (State of the Union, 4.3 M)', 1, none)).toBe('/home/me/fas/models/Demo GPT-2 · stage 1');
    expect(stageOutDir('/home/me/fas', 'Demo GPT-2 · stage 1', 2, none)).toBe('/home/me/fas/models/Demo GPT-2 · stage 2');
    expect(stageOutDir('C:\\Users\\me\\fas', 'gpt2', 'both', none)).toBe('C:\\Users\\me\\fas\\models\\gpt2');
  });

  it('adds a number only when the folder, a folder inside it or the name of a model it makes is taken', () => {
    const taken = {
      paths: ['/w', '/w/models/Demo GPT-2 · stage 1', '/W/MODELS/DEMO GPT-2 (2) · STAGE 1/'],
      names: ['Demo GPT-2 (3) · stage 1'],
    };
    // The workspace itself holds every folder: no clash.
    expect(stageOutDir('/w', 'Demo GPT-2', 1, taken)).toBe('/w/models/Demo GPT-2 (4) · stage 1');
    expect(stageOutDir('/w', 'Demo GPT-2', 2, taken)).toBe('/w/models/Demo GPT-2 · stage 2');
    // A conversion's folder holds both stages: a model inside it, or either stage's name, is a clash.
    expect(stageOutDir('/w', 'Demo GPT-2', 'both', { paths: ['/w/models/Demo GPT-2/stage2-spiking'], names: ['Demo GPT-2 (2) · stage 2'] })).toBe(
      '/w/models/Demo GPT-2 (3)',
    );
  });

  it("names a conversion's stage folders after the conversion, and any other folder by its own name", () => {
    expect(libraryModelName('stage1-qcfs', 'Demo GPT-2')).toBe('Demo GPT-2 · stage 1');
    expect(libraryModelName('stage2-spiking', 'Demo GPT-2 (2)')).toBe('Demo GPT-2 (2) · stage 2');
    expect(libraryModelName('gpt2-stage1-2026-01-01-1200', 'models')).toBe('gpt2-stage1-2026-01-01-1200');
  });
});

describe('output folder check', () => {
  it('refuses a folder that holds, is or lies inside a library model, or holds the text', () => {
    expect(outDirProblem('/home/me/models', library)).toMatch(/holds "GPT-2" from the library/);
    expect(outDirProblem('/home/me/models/gpt2/', library)).toMatch(/lives in that output folder/);
    expect(outDirProblem('/home/me/models/gpt2/out', library)).toMatch(/inside the folder of "GPT-2"/);
    expect(outDirProblem('C:\\data', [], 'C:\\data\\corpus.txt')).toMatch(/holds, or is inside, the text/);
    expect(outDirProblem('  ', library)).toMatch(/Choose an output folder/);
  });

  it('accepts a new folder beside them', () => {
    expect(outDirProblem('/home/me/models/gpt2 · stage 1', library, '/home/me/text.txt')).toBeNull();
  });
});
