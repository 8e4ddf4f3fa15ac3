import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelLibrary } from '../../../electron/core/library/library.js';
import { writeSpikingConfig } from '../../../electron/core/spiking/spiking-config.js';
import { writeTinyModel } from '../../helpers/tiny-models.js';

const temp = () => mkdtempSync(join(tmpdir(), 'fas-lib-'));

describe('ModelLibrary', () => {
  it('opens a valid folder, keeps it across instances, and does not add it twice', async () => {
    const workspace = temp();
    const model = join(temp(), 'tiny-gpt2');
    await writeTinyModel(model, 'gpt2');
    const lib = new ModelLibrary(workspace);
    const entry = await lib.open(model);
    expect(entry).toMatchObject({ name: 'tiny-gpt2', stage: 'ann', builtIn: false, problem: null });
    expect(entry.summary?.architecture).toBe('GPT-2');
    await lib.open(model + '/');
    const again = await new ModelLibrary(workspace).list();
    expect(again.map((e) => e.id)).toEqual([entry.id]);
  });

  it("names a conversion's stage folders after the conversion's folder", async () => {
    const conversion = join(temp(), 'Demo GPT-2');
    await writeTinyModel(join(conversion, 'stage1-qcfs'), 'gpt2');
    await writeTinyModel(join(conversion, 'stage2-spiking'), 'gpt2');
    const lib = new ModelLibrary(temp());
    expect((await lib.open(join(conversion, 'stage1-qcfs'))).name).toBe('Demo GPT-2 · stage 1');
    expect((await lib.open(join(conversion, 'stage2-spiking'))).name).toBe('Demo GPT-2 · stage 2');
  });

  it('renames a model, keeping its folder, and refuses an empty name', async () => {
    const workspace = temp();
    const model = join(temp(), 'tiny-gpt2');
    await writeTinyModel(model, 'gpt2');
    const lib = new ModelLibrary(workspace);
    const entry = await lib.open(model);
    const renamed = await lib.rename(entry.id, '  My   model ');
    expect(renamed.map((e) => [e.id, e.name, e.path])).toEqual([[entry.id, 'My model', entry.path]]);
    expect((await new ModelLibrary(workspace).get(entry.id)).name).toBe('My model');
    await expect(lib.rename(entry.id, '   ')).rejects.toThrow('Give the model a name.');
    await expect(lib.rename('nope', 'x')).rejects.toThrow('No model with id "nope" in the library.');
  });

  it('rejects a folder in plain words and adds nothing', async () => {
    const workspace = temp();
    const empty = temp();
    const lib = new ModelLibrary(workspace);
    await expect(lib.open(empty)).rejects.toThrow(/no config\.json/);
    writeFileSync(join(empty, 'config.json'), JSON.stringify({ model_type: 'bert' }));
    await expect(lib.open(empty)).rejects.toThrow(/bert/);
    expect(await lib.list()).toEqual([]);
  });

  it('reports the FAS stage of converted folders', async () => {
    const model = join(temp(), 'converted');
    await writeTinyModel(model, 'gpt2');
    await writeSpikingConfig(model, { L: 8, T: 8, neuron: 'if-soft-reset', signed: false, site: 'ffn_act', calibration: 'layer' });
    const entry = await new ModelLibrary(temp()).open(model);
    expect(entry.stage).toBe('calibrated');
    expect(entry.spiking).toEqual({ levels: 8, timesteps: 8, signed: false, calibration: 'layer', scope: 'ffn' });
  });

  it('lists a folder that disappeared with the reason, and removes it on request', async () => {
    const workspace = temp();
    const model = join(temp(), 'gone');
    await writeTinyModel(model, 'opt');
    const lib = new ModelLibrary(workspace);
    const entry = await lib.open(model);
    rmSync(model, { recursive: true });
    const [listed] = await lib.list();
    expect(listed!.summary).toBeNull();
    expect(listed!.problem).toMatch(/does not exist/);
    expect(await lib.remove(entry.id)).toEqual([]);
    await expect(lib.remove(entry.id)).rejects.toThrow(/No model/);
  });

  it('always lists built-in models first and refuses to remove them', async () => {
    const demo = join(temp(), 'demo');
    mkdirSync(demo);
    await writeTinyModel(demo, 'gpt2');
    const lib = new ModelLibrary(temp(), [{ name: 'Demo model', path: demo }]);
    const [first] = await lib.list();
    expect(first).toMatchObject({ name: 'Demo model', builtIn: true });
    await expect(lib.remove(first!.id)).rejects.toThrow(/part of the app/);
  });

  it('reads a folder again only when one of its files changed size, time or inode', async () => {
    const model = join(temp(), 'cached');
    await writeTinyModel(model, 'gpt2');
    const config = join(model, 'config.json');
    // Whole seconds, so the test can set the same time again exactly.
    const mtime = new Date(1_700_000_000_000);
    const atime = mtime;
    utimesSync(config, atime, mtime);
    const lib = new ModelLibrary(temp());
    await lib.open(model);
    const text = readFileSync(config, 'utf8');
    // Same size, same time and inode: the summary is reused, the damaged file is not read.
    writeFileSync(config, 'x'.repeat(Buffer.byteLength(text)), { flag: 'r+' });
    utimesSync(config, atime, mtime);
    expect((await lib.list())[0]!.problem).toBeNull();
    // A new modification time: read again, and the damage is reported.
    utimesSync(config, atime, new Date(mtime.getTime() + 5000));
    expect((await lib.list())[0]!.problem).toMatch(/config\.json is not valid JSON/);
  });
});
