// The plain line under an energy figure: how the spiking model compares with the original, and why,
// for each recipe (the FFN only, every layer), in an evaluation and under a chat reply.
import { describe, expect, it } from 'vitest';
import type { ReplyOps } from '../../../electron/api/contract.js';
import { energyLine, replyEnergyLine, timesWords } from '../../../electron/shared/reply-words.js';

const ops = (o: Partial<ReplyOps>): ReplyOps => ({
  positions: 10,
  macsPerToken: 1000,
  acsPerToken: 500,
  annMacsPerToken: 2000,
  picojoulesPerToken: 3700,
  annPicojoulesPerToken: 10_000,
  firingRates: [0.1, 0.2],
  counted: '',
  ...o,
});

describe('energy in a plain sentence', () => {
  it('says how many times the original the spiking model spends, why, and where it goes', () => {
    expect(energyLine({ annMacJoules: 10, snnMacJoules: 21, snnAcJoules: 3, timesteps: 4, counted: '' })).toBe(
      "This spiking model spends 2.4× the energy of the original per token (only the FFN projection runs on spikes; every other layer still multiplies, once per timestep): at T = 4 the multiplications left cost 2.1× the original's, and the spikes' additions 0.3×.",
    );
    expect(energyLine({ annMacJoules: 10, snnMacJoules: 1, snnAcJoules: 2.7, timesteps: 8, counted: '', perSite: [] })).toBe(
      "This spiking model spends 0.37× the energy of the original per token (fewer operations, because most neurons stay silent and a spike only adds where the original multiplies): at T = 8 the multiplications left cost 0.1× the original's, and the spikes' additions 0.27×.",
    );
    expect(energyLine({ annMacJoules: 10, snnMacJoules: 0, snnAcJoules: 1.2, timesteps: 2, counted: '', perSite: [] })).toMatch(
      /^This spiking model spends 0.12× .*: at T = 2 no multiplications are left: all of it goes to the spikes' additions\.$/,
    );
    expect(timesWords(12.34)).toBe('12×');
  });

  it('under a chat reply, by recipe, and nothing under a reply of the original network', () => {
    expect(replyEnergyLine(ops({ sites: [] }))).toBe(
      'This model spent 0.37× the energy of the original (fewer operations, because most neurons stay silent and a spike only adds where the original multiplies).',
    );
    expect(replyEnergyLine(ops({ picojoulesPerToken: 24_000 }))).toBe(
      'This model spent 2.4× the energy of the original (only the FFN projection runs on spikes; every other layer still multiplies, once per timestep).',
    );
    expect(replyEnergyLine(ops({ picojoulesPerToken: 8000 }))).toMatch(
      /^This model spent 0.8× the energy of the original \(its FFN projection adds spikes instead/,
    );
    expect(replyEnergyLine(ops({ sites: [], picojoulesPerToken: 13_000 }))).toMatch(/1.3× the energy of the original \(its neurons fire so often/);
    expect(replyEnergyLine(ops({ firingRates: [], acsPerToken: 0 }))).toBeNull();
  });
});
