import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelStage, readSpikingConfig, writeSpikingConfig } from '../../../electron/core/spiking/spiking-config.js';

const dir = () => mkdtempSync(join(tmpdir(), 'fas-spiking-'));
const valid = { format: 'fas-spiking', version: 1, L: 8, T: 8, neuron: 'if-soft-reset', signed: false, site: 'ffn_act', calibration: 'none' };

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

  it('refuses a newer format version with advice', async () => {
    const d = dir();
    writeFileSync(join(d, 'spiking_config.json'), JSON.stringify({ ...valid, version: 2 }));
    await expect(readSpikingConfig(d)).rejects.toThrow(/version 2; this app reads version 1\. Update the app/);
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
