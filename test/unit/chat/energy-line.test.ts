// The plain line under an energy figure: how the spiking model compares with the original, and why.
import { describe, expect, it } from 'vitest';
import { energyLine } from '../../../electron/shared/reply-words.js';

describe('energy in a plain sentence', () => {
  it('says how many times more the spiking model spends, and where it goes', () => {
    expect(energyLine({ annMac: 10, snnMac: 21, snnAc: 3, timesteps: 4 })).toBe(
      "This spiking model spends 2.4 times the energy of the original per token: only its FFN activations spike; at T = 4 the layers that still multiply cost 2.1 times the original's, and the spikes add 0.3 times more.",
    );
  });
  it('or the saving', () => {
    expect(energyLine({ annMac: 10, snnMac: 5, snnAc: 1, timesteps: 8 })).toBe(
      "This spiking model saves 40% of the original's energy per token: its FFN multiplies became cheaper spike accumulates; at T = 8 the layers that still multiply cost 0.5 times the original's, and the spikes add 0.1 times more.",
    );
  });
});
