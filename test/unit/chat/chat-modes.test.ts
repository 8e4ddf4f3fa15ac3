// The chat's modes as requests carry them, and a reply's operations as the app, the CLI and the
// exports word them.
import { describe, expect, it } from 'vitest';
import type { ModelEntry, ReplyOps } from '../../../electron/api/contract.js';
import { defaultMode, modeWords, replyModelWords } from '../../../electron/shared/chat-modes.js';
import { chatParamSchemas } from '../../../electron/core/chat/chat-schemas.js';
import { opsParts } from '../../../electron/shared/reply-words.js';
import { combineOps, replyOps } from '../../../electron/core/chat/write-reply.js';
import type { InferenceStats } from '../../../native/index.js';

const ops = (changes: Partial<ReplyOps>): ReplyOps => ({
  positions: 10,
  macsPerToken: 30_000,
  acsPerToken: 2_000,
  annMacsPerToken: 10_000,
  picojoulesPerToken: 139_800,
  annPicojoulesPerToken: 46_000,
  firingRates: [0.1, 0.3],
  counted: 'what was counted',
  ...changes,
});

describe('chat modes', () => {
  const create = chatParamSchemas['chats.create'];
  const update = chatParamSchemas['chats.update'];

  it('takes the ANN, or the spiking model with a whole T from 1 to 1024', () => {
    for (const mode of [{ kind: 'ann' }, { kind: 'snn', timesteps: 1 }, { kind: 'snn', timesteps: 1024 }]) {
      expect(create.safeParse({ modelId: 'm', mode }).success).toBe(true);
      expect(update.safeParse({ id: 'c', mode }).success).toBe(true);
    }
    for (const mode of [
      { kind: 'snn' },
      { kind: 'snn', timesteps: 0 },
      { kind: 'snn', timesteps: 1025 },
      { kind: 'snn', timesteps: 2.5 },
      { kind: 'ann', timesteps: 4 },
      { kind: 'qcfs' },
    ]) {
      expect(update.safeParse({ id: 'c', mode }).success).toBe(false);
    }
  });

  it("defaults a converted model to the spiking model at the folder's T, any other to the ANN", () => {
    const model = { name: 'gpt2', spiking: { levels: 8, timesteps: 16, signed: false, calibration: 'neuron', scope: 'ffn' } } as ModelEntry;
    expect(defaultMode(model)).toEqual({ kind: 'snn', timesteps: 16 });
    expect(defaultMode({ ...model, spiking: null })).toEqual({ kind: 'ann' });
    expect(modeWords({ kind: 'snn', timesteps: 16 })).toBe('spiking, T = 16');
    expect(modeWords({ kind: 'ann' })).toBe('ANN');
    expect(replyModelWords({ modelName: 'gpt2', mode: { kind: 'snn', timesteps: 16 } })).toBe('gpt2, spiking, T = 16');
    expect(replyModelWords({ modelName: 'gpt2', mode: { kind: 'ann' } })).toBe('gpt2');
  });
});

describe("a reply's operations", () => {
  it('words the spiking model against the ANN, whether it costs less or more', () => {
    expect(opsParts(ops({}))).toEqual(['firing rate 20.0%', '30K MACs + 2K ACs per token', "0.14 µJ per token, 204% more than the original's"]);
    expect(opsParts(ops({ macsPerToken: 4_000, acsPerToken: 1_234_567, picojoulesPerToken: 23_000 }))[1]).toBe('4K MACs + 1.23M ACs per token');
    expect(opsParts(ops({ picojoulesPerToken: 23_000 }))[2]).toBe("0.023 µJ per token, 50% of the original's");
    expect(opsParts(ops({ picojoulesPerToken: 46_100 }))[2]).toBe("0.0461 µJ per token, 100% of the original's");
    expect(opsParts(ops({ picojoulesPerToken: 2.5e9, annPicojoulesPerToken: 2e9 }))[2]).toBe("2,500 µJ per token, 25% more than the original's");
  });

  it('words the ANN by its MACs and energy alone', () => {
    expect(opsParts(ops({ acsPerToken: 0, macsPerToken: 124_000_000, picojoulesPerToken: 570_400_000, firingRates: [] }))).toEqual([
      '124M MACs per token',
      '570 µJ per token',
    ]);
  });

  it('adds up the parts of a continued reply, weighted by the positions each ran', () => {
    const first = ops({ positions: 30, macsPerToken: 100, firingRates: [0.2, 0.4] });
    const second = ops({ positions: 10, macsPerToken: 500, firingRates: [0.6, 0.8] });
    const both = combineOps(first, second)!;
    expect(both.positions).toBe(40);
    expect(both.macsPerToken).toBeCloseTo(200);
    expect(both.acsPerToken).toBeCloseTo(2_000);
    expect(both.firingRates[0]).toBeCloseTo(0.3);
    expect(both.firingRates[1]).toBeCloseTo(0.5);
    expect(combineOps(null, second)).toBe(second);
    expect(combineOps(first, null)).toBe(first);
    expect(both.sites).toBeUndefined();
  });

  it('keeps each site of a model spiking at every layer: its mean count (firing rate x T) and energy', () => {
    const stats = {
      mode: 'snn',
      timesteps: 8,
      scope: 'all',
      tokens: 5,
      macsPerToken: 0,
      acsPerToken: 900,
      annMacsPerToken: 1000,
      energyPerToken: { picojoules: 810, annPicojoules: 4600, saving: 0.82 },
      firingRates: [0.25],
      spikes: [10],
      sites: [{ site: 'q', firingRate: 0.25, layerFiringRates: [0.25], acsPerToken: 900, picojoulesPerToken: 810 }],
      neuronFiringRates: null,
      downProjection: { event: 0, dense: 7, gpu: 0 },
      backend: 'cpu',
      backendNote: '',
      counted: 'Scope all.',
    } satisfies InferenceStats;
    expect(replyOps(stats)!.sites).toEqual([{ site: 'q', meanCount: 2, picojoulesPerToken: 810 }]);
    expect(replyOps({ ...stats, scope: 'ffn', sites: [] })!.sites).toBeUndefined();
  });

  it('weights the per-site counts and energy of a model spiking at every layer the same way', () => {
    const site = (meanCount: number, picojoulesPerToken: number) => [{ site: 'attn_in', meanCount, picojoulesPerToken }];
    const both = combineOps(ops({ positions: 30, sites: site(1, 100) }), ops({ positions: 10, sites: site(3, 500) }))!;
    expect(both.sites![0]!.site).toBe('attn_in');
    expect(both.sites![0]!.meanCount).toBeCloseTo(1.5);
    expect(both.sites![0]!.picojoulesPerToken).toBeCloseTo(200);
  });
});
