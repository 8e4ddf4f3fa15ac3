import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelStage, readSpikingConfig, spikingInfo, writeSpikingConfig } from '../../../electron/core/spiking/spiking-config.js';

const dir = () => mkdtempSync(join(tmpdir(), 'fas-spiking-'));
const valid = {
  format: 'fas-spiking',
  version: 2,
  L: 8,
  T: 8,
  neuron: 'if-soft-reset',
  signed: false,
  site: 'ffn_act',
  calibration: 'none',
  scope: 'ffn',
  encoding: 'step',
};
const { scope: _scope, encoding: _encoding, ...version1 } = { ...valid, version: 1 };

describe('spiking_config.json', () => {
  it('is absent on a plain ANN folder', async () => {
    const d = dir();
    expect(await readSpikingConfig(d)).toBeNull();
    expect(modelStage(null)).toBe('ann');
  });

  it('round-trips and tells the stage', async () => {
    const d = dir();
    await writeSpikingConfig(d, { L: 8, T: 4, neuron: 'if-soft-reset', signed: true, site: 'ffn_act', calibration: 'neuron' });
    const config = await readSpikingConfig(d);
    expect(config).toEqual({ ...valid, T: 4, signed: true, calibration: 'neuron' });
    expect(modelStage(config)).toBe('calibrated');
    expect(modelStage({ ...config!, calibration: 'none' })).toBe('qcfs');
  });

  it('writes version 2 with the scope, layer encoding for scope all', async () => {
    const d = dir();
    await writeSpikingConfig(d, { L: 8, T: 4, neuron: 'if-soft-reset', signed: false, site: 'ffn_act', calibration: 'none', scope: 'all' });
    expect(JSON.parse(readFileSync(join(d, 'spiking_config.json'), 'utf8'))).toEqual({ ...valid, T: 4, scope: 'all', encoding: 'layer' });
    expect(spikingInfo(await readSpikingConfig(d))).toEqual({ levels: 8, timesteps: 4, signed: false, calibration: 'none', scope: 'all' });
  });

  it('reads a version 1 folder as scope ffn with step encoding', async () => {
    const d = dir();
    writeFileSync(join(d, 'spiking_config.json'), JSON.stringify({ ...version1, calibration: 'layer' }));
    expect(await readSpikingConfig(d)).toEqual({ ...valid, calibration: 'layer' });
  });

  it('refuses a newer format version with advice, and unknown versions', async () => {
    const d = dir();
    writeFileSync(join(d, 'spiking_config.json'), JSON.stringify({ ...valid, version: 3 }));
    await expect(readSpikingConfig(d)).rejects.toThrow(/version 3; this app reads version 2\. Update the app/);
    writeFileSync(join(d, 'spiking_config.json'), JSON.stringify({ ...valid, version: 0 }));
    await expect(readSpikingConfig(d)).rejects.toThrow(/unknown spiking format version 0; this app reads versions 1 and 2/);
    writeFileSync(join(d, 'spiking_config.json'), JSON.stringify({ ...valid, version: '2' }));
    await expect(readSpikingConfig(d)).rejects.toThrow(/unknown spiking format version "2"/);
  });

  it('refuses a version 2 config without its scope, or with a pairing the app does not run', async () => {
    const d = dir();
    const write = (config: object) => writeFileSync(join(d, 'spiking_config.json'), JSON.stringify(config));
    write({ ...version1, version: 2 });
    await expect(readSpikingConfig(d)).rejects.toThrow(/scope/);
    write({ ...valid, scope: 'all', encoding: 'step' });
    await expect(readSpikingConfig(d)).rejects.toThrow(/scope "all" with encoding "layer"/);
    write({ ...valid, scope: 'ffn', encoding: 'layer' });
    await expect(readSpikingConfig(d)).rejects.toThrow(/encoding/);
    write({ ...valid, scope: 'all', encoding: 'layer', calibration: 'neuron' });
    await expect(readSpikingConfig(d)).rejects.toThrow(/needs no neuron calibration/);
    write({ ...valid, scope: 'some' });
    await expect(readSpikingConfig(d)).rejects.toThrow(/scope/);
  });

  it('explains what is wrong with an invalid config', async () => {
    const d = dir();
    writeFileSync(join(d, 'spiking_config.json'), JSON.stringify({ ...valid, calibration: 'magic' }));
    await expect(readSpikingConfig(d)).rejects.toThrow(/calibration/);
    writeFileSync(join(d, 'spiking_config.json'), '{not json');
    await expect(readSpikingConfig(d)).rejects.toThrow(/not valid JSON/);
    writeFileSync(join(d, 'spiking_config.json'), JSON.stringify({ ...valid, format: 'other' }));
    await expect(readSpikingConfig(d)).rejects.toThrow(/not a valid FAS spiking config/);
  });
});
