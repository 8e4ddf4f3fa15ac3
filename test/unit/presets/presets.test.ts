import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppCore } from '../../../electron/core/app-core.js';
import { PresetStore } from '../../../electron/core/presets/presets.js';

const workspace = () => mkdtempSync(join(tmpdir(), 'fas-presets-'));

describe('PresetStore', () => {
  it('saves, lists by name and keeps presets across instances', async () => {
    const dir = workspace();
    const store = new PresetStore(dir);
    expect(await store.list('finetune')).toEqual([]);
    await store.save('finetune', 'Quick test', { steps: 50, lr: 0.001 });
    await store.save('finetune', 'careful', { steps: 2000, lr: 0.0001 });
    const again = await new PresetStore(dir).list('finetune');
    expect(again.map((p) => p.name)).toEqual(['careful', 'Quick test']);
    expect(again[1]!.values).toEqual({ steps: 50, lr: 0.001 });
    expect(Date.parse(again[1]!.savedAt)).not.toBeNaN();
    expect(await store.list('calibrate')).toEqual([]);
  });

  it('replaces a preset of the same name, ignoring case and surrounding spaces', async () => {
    const store = new PresetStore(workspace());
    await store.save('finetune', 'Fast', { steps: 10 });
    const presets = await store.save('finetune', '  fast ', { steps: 20 });
    expect(presets).toEqual([expect.objectContaining({ name: 'fast', values: { steps: 20 } })]);
  });

  it('deletes by name and says so when the name is unknown', async () => {
    const store = new PresetStore(workspace());
    await store.save('chat', 'Creative', { temperature: 1.1 });
    await store.save('chat', 'Precise', { temperature: 0.2 });
    expect((await store.delete('chat', 'creative')).map((p) => p.name)).toEqual(['Precise']);
    await expect(store.delete('chat', 'Creative')).rejects.toThrow('There is no preset called "Creative".');
  });

  it('rejects bad names, kinds and oversized values in plain words', async () => {
    const store = new PresetStore(workspace());
    await expect(store.save('finetune', '   ', {})).rejects.toThrow('Give the preset a name.');
    await expect(store.save('finetune', 'x'.repeat(61), {})).rejects.toThrow('at most 60 characters');
    await expect(store.save('finetune', 'two\nlines', {})).rejects.toThrow('control characters');
    await expect(store.save('../escape', 'ok', {})).rejects.toThrow('not a kind of preset');
    await expect(store.list('Fine Tune')).rejects.toThrow('not a kind of preset');
    await expect(store.save('finetune', 'big', { text: 'x'.repeat(70_000) })).rejects.toThrow('too large');
    expect(await store.list('finetune')).toEqual([]);
  });

  it('loses no preset when saves overlap, and leaves no temporary files', async () => {
    const dir = workspace();
    const store = new PresetStore(dir);
    await Promise.all(Array.from({ length: 12 }, (_, i) => store.save('finetune', `p${String(i).padStart(2, '0')}`, { i })));
    expect((await store.list('finetune')).map((p) => p.values.i)).toEqual([...Array(12).keys()]);
    expect(readdirSync(join(dir, 'presets'))).toEqual(['finetune.json']);
    expect(JSON.parse(readFileSync(join(dir, 'presets', 'finetune.json'), 'utf8')).version).toBe(1);
  });

  it('leaves a damaged file alone and explains', async () => {
    const dir = workspace();
    mkdirSync(join(dir, 'presets'));
    writeFileSync(join(dir, 'presets', 'finetune.json'), '{ not json');
    const store = new PresetStore(dir);
    await expect(store.list('finetune')).rejects.toThrow('could not be read');
    await expect(store.save('finetune', 'new', {})).rejects.toThrow('could not be read');
    expect(readFileSync(join(dir, 'presets', 'finetune.json'), 'utf8')).toBe('{ not json');
  });
});

describe('presets API', () => {
  it('is reachable through AppCore and validates the values type', async () => {
    const core = new AppCore({ workspaceDir: workspace(), jobKinds: {} });
    await core.call('presets.save', { kind: 'finetune', name: 'Mine', values: { steps: 5 } });
    expect(await core.call('presets.list', { kind: 'finetune' })).toEqual([expect.objectContaining({ name: 'Mine' })]);
    expect(await core.call('presets.delete', { kind: 'finetune', name: 'Mine' })).toEqual([]);
    const bad = await core.handle('presets.save', { kind: 'finetune', name: 'x', values: [1, 2] });
    expect(bad.ok).toBe(false);
    const unknown = await core.handle('presets.delete', { kind: 'finetune', name: 'gone' });
    expect(unknown).toEqual({ ok: false, error: { code: 'not_found', message: 'There is no preset called "gone".' } });
  });
});
