import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openChatModel, type ChatModel } from '../../../electron/core/chat/chat-model.js';
import { tempDir } from '../../helpers/tiny-models.js';
import { CHATML_TEMPLATE, writeChatModel, writeConvertedChatModel } from './helpers.js';

const greedy = { maxTokens: 12, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0 };
const collect = () => {
  const pieces: string[] = [];
  return { pieces, onText: (t: string) => pieces.push(t) };
};

describe('a model loaded for chatting', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let model: ChatModel;
  let twin: ChatModel;
  beforeAll(async () => {
    ({ path: root, cleanup } = await tempDir());
    const dir = await writeChatModel(join(root, 'tiny'), { contextLength: 128 });
    [model, twin] = await Promise.all([openChatModel(dir, { kind: 'ann' }), openChatModel(dir, { kind: 'ann' })]);
  });
  afterAll(async () => {
    model?.dispose();
    twin?.dispose();
    await cleanup();
  });

  it('streams a reply and reports its stats', async () => {
    const ids = (await model.prompt('', [{ role: 'user', text: 'Hi' }], false, 12)).ids;
    const { pieces, onText } = collect();
    const reply = await model.reply(ids, greedy, onText, new AbortController().signal);
    expect(reply.text).toBe(pieces.join(''));
    expect(reply.ids.length).toBeGreaterThan(0);
    expect(reply.ids.length).toBeLessThanOrEqual(12);
    expect(['eos', 'length', 'stop']).toContain(reply.stopReason);
    expect(reply.promptTokens).toBe(ids.length);
    expect(reply.cachedTokens).toBe(0);
    expect(reply.timeToFirstTokenMs).toBeGreaterThanOrEqual(0);
    expect(reply.seconds).toBeGreaterThan(0);
  });

  it('runs only the new tokens when the prompt extends the last one, with the same result as from scratch', async () => {
    const first = (await model.prompt('', [{ role: 'user', text: 'Hi' }], false, 12)).ids;
    const a = await model.reply(first, greedy, () => {}, new AbortController().signal);
    // The next prompt: the same conversation, the reply as the model wrote it (bytes: one token each), a new message.
    const next = [...first, ...a.ids, ...[...'\n\nUser: more\n\nAssistant:'].map((c) => c.charCodeAt(0))];
    const cached = await model.reply(next, greedy, () => {}, new AbortController().signal);
    expect(cached.cachedTokens).toBe(first.length + a.ids.length);
    expect(cached.promptTokens).toBe(next.length - cached.cachedTokens);
    const fresh = await twin.reply(next, greedy, () => {}, new AbortController().signal);
    expect(fresh.cachedTokens).toBe(0);
    expect(cached.ids).toEqual(fresh.ids);
    // A prompt that does not extend the context starts over.
    const other = await model.reply((await model.prompt('', [{ role: 'user', text: 'Bye' }], false, 12)).ids, greedy, () => {}, new AbortController().signal);
    expect(other.cachedTokens).toBe(0);
  });

  it('stops at once when aborted', async () => {
    const controller = new AbortController();
    const ids = (await model.prompt('', [{ role: 'user', text: 'Tell me a long story' }], false, 12)).ids;
    let count = 0;
    const reply = await model.reply(
      ids,
      { ...greedy, maxTokens: 80, repetitionPenalty: 1.3 },
      () => {
        if (++count === 2) controller.abort();
      },
      controller.signal,
    );
    expect(reply.stopReason).toBe('aborted');
    expect(reply.ids.length).toBeLessThan(80);
  });

  it('refuses a system prompt that leaves no room for a reply, in words', async () => {
    await expect(model.prompt('x'.repeat(200), [{ role: 'user', text: 'Hi' }], false, 12)).rejects.toThrow(
      /^The system prompt is 2\d\d tokens long, but the model reads at most 128 tokens at once, its reply included, so no message fits beside it\./,
    );
  });

  it('leaves out the oldest turns, then cuts the start of the last message, keeping room for the reply', async () => {
    // Byte tokens: a turn "User: <20 letters>" is 26 tokens, "Assistant: <20 letters>" 31.
    const turn = (role: 'user' | 'assistant', letter: string) => ({ role, text: letter.repeat(20) });
    const whole = await model.prompt('', [turn('user', 'a')], false, 500);
    expect(whole.cut).toBeNull();
    const long = [turn('user', 'a'), turn('assistant', 'b'), turn('user', 'c'), turn('assistant', 'd'), turn('user', 'e')];
    // Room for the reply: 500 asked, at most a quarter of the 128-token context (32).
    const fitted = await model.prompt('', long, false, 500);
    expect(fitted.cut).toEqual({ leftOut: 4, trimmed: false });
    expect(fitted.ids.length).toBeLessThanOrEqual(96);
    expect(String.fromCharCode(...fitted.ids.filter((id) => id < 128))).toContain('User: ' + 'e'.repeat(20));
    // A shorter reply leaves room for one more turn, from a message of the user.
    expect((await model.prompt('', long, false, 8)).cut).toEqual({ leftOut: 2, trimmed: false });
    // Continuing a reply longer than the context keeps its end.
    const continued = await model.prompt('', [turn('user', 'a'), { role: 'assistant', text: 'z'.repeat(300) }], true, 500);
    expect(continued.cut).toEqual({ leftOut: 1, trimmed: true });
    expect(continued.ids.length).toBe(96);
  });

  it('reports a reply cut short by a full context', async () => {
    const ids = (await model.prompt('x'.repeat(80), [{ role: 'user', text: 'Hi' }], false, 12)).ids;
    // Asked for more than is left, the reply stops where the context ends.
    const reply = await model.reply(ids, { ...greedy, maxTokens: 500, repetitionPenalty: 1.5 }, () => {}, new AbortController().signal);
    expect(reply.stopReason).toBe('length');
    expect(reply.contextFull).toBe(true);
    expect(ids.length + reply.ids.length).toBe(128);
  });

  it('counts what the ANN ran for each reply', async () => {
    const reply = await model.reply((await model.prompt('', [{ role: 'user', text: 'Hi' }], false, 12)).ids, greedy, () => {}, new AbortController().signal);
    expect(reply.stats).toMatchObject({ mode: 'ann', timesteps: 1, acsPerToken: 0, firingRates: [] });
    expect(reply.stats!.macsPerToken).toBe(reply.stats!.annMacsPerToken);
  });

  it('chats with a converted model as the spiking model at T, or as the ANN on the same weights', async () => {
    const dir = await writeConvertedChatModel(join(root, 'converted'), { contextLength: 128, timesteps: 4 });
    const [snn, ann] = await Promise.all([openChatModel(dir, { kind: 'snn', timesteps: 8 }), openChatModel(dir, { kind: 'ann' })]);
    try {
      const ids = (await snn.prompt('', [{ role: 'user', text: 'Hi' }], false, 12)).ids;
      const spiking = await snn.reply(ids, greedy, () => {}, new AbortController().signal);
      expect(spiking.stats).toMatchObject({ mode: 'snn', timesteps: 8 });
      expect(spiking.stats!.tokens).toBeGreaterThan(ids.length);
      expect(spiking.stats!.firingRates).toHaveLength(2);
      expect(spiking.stats!.acsPerToken).toBeGreaterThan(0);
      const original = await ann.reply(ids, greedy, () => {}, new AbortController().signal);
      expect(original.stats).toMatchObject({ mode: 'ann', firingRates: [] });
      expect(spiking.stats!.annMacsPerToken).toBeCloseTo(original.stats!.macsPerToken);
    } finally {
      snn.dispose();
      ann.dispose();
    }
  });

  it('refuses the spiking mode of a model that is not converted', async () => {
    await expect(openChatModel(join(root, 'tiny'), { kind: 'snn', timesteps: 4 })).rejects.toThrow(
      /tiny is not a converted model \(it has no spiking_config\.json\), so it has no spiking mode\./,
    );
  });

  it('stops at the end of a templated turn, never showing it', async () => {
    const dir = await writeChatModel(join(root, 'chatml'), { contextLength: 256, chatTemplate: CHATML_TEMPLATE });
    const chatml = await openChatModel(dir, { kind: 'ann' });
    try {
      expect(chatml.format.kind).toBe('template');
      expect(chatml.format.stopStrings).toEqual(['<|im_end|>']);
      const ids = (await chatml.prompt('', [{ role: 'user', text: 'Hi' }], false, 12)).ids;
      const reply = await chatml.reply(ids, { ...greedy, maxTokens: 40, temperature: 1, seed: 3 }, () => {}, new AbortController().signal);
      expect(reply.text).not.toContain('<|im_end|>');
    } finally {
      chatml.dispose();
    }
  });
});
