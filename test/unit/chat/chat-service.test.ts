import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent, ChatDone, ChatSampling, ModelEntry } from '../../../electron/api/contract.js';
import { AppCore } from '../../../electron/core/app-core.js';
import { writeChatModel, writeConvertedChatModel } from './helpers.js';

const quick: ChatSampling = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1.2, maxTokens: 8, seed: 1 };
// Greedy without a repetition penalty, the tiny model runs on to the limit: time enough to stop it.
const long: ChatSampling = { ...quick, repetitionPenalty: 1, maxTokens: 1900 };

describe('chat requests', () => {
  const root = mkdtempSync(join(tmpdir(), 'fas-chat-service-'));
  const core = new AppCore({ workspaceDir: join(root, 'workspace') });
  const events: ApiEvent[] = [];
  core.onEvent((e) => events.push(e));
  let models: ModelEntry[];

  beforeAll(async () => {
    const dirs = await Promise.all(['one', 'two', 'three'].map((name, i) => writeChatModel(join(root, name), { contextLength: 2048, seed: i + 1 })));
    models = [];
    for (const dir of dirs) models.push(await core.call('models.open', { path: dir }));
  });
  afterAll(() => core.chats.close());

  /** Resolves with the 'chat.done' of a reply, and the text its deltas streamed. */
  function replyOf(chatId: string): Promise<{ done: ChatDone; streamed: string }> {
    return new Promise((resolve) => {
      let streamed = '';
      const off = core.onEvent((e) => {
        if (e.name === 'chat.delta' && e.data.chatId === chatId) streamed += e.data.text;
        if (e.name === 'chat.done' && e.data.chatId === chatId) {
          off();
          resolve({ done: e.data, streamed });
        }
      });
    });
  }

  it('answers a message, streaming the reply, and saves both as a plain file', async () => {
    const chat = await core.call('chats.create', { modelId: models[0]!.id, systemPrompt: 'Be brief.', sampling: quick });
    expect(chat).toMatchObject({ title: '', modelName: 'one', mode: { kind: 'ann' }, messages: [], replying: null });
    const reply = replyOf(chat.id);
    const started = await core.call('chats.send', { id: chat.id, text: '  Hello there\nsecond line ' });
    expect(started.title).toBe('Hello there');
    expect(started.messages.map((m) => [m.role, m.text])).toEqual([
      ['user', 'Hello there\nsecond line'],
      ['assistant', ''],
    ]);
    expect(started.replying).toBe(started.messages[1]!.id);

    const { done, streamed } = await reply;
    expect(done.message.id).toBe(started.replying);
    expect(done.message.text).toBe(streamed.trimEnd());
    expect(done.message.stats).toMatchObject({ modelId: models[0]!.id, modelName: 'one', seed: 1, cachedTokens: 0, error: null });
    expect(done.message.stats!.tokens).toBeGreaterThan(0);
    expect(['eos', 'length', 'stop']).toContain(done.message.stats!.stopReason);

    const saved = await core.call('chats.get', { id: chat.id });
    expect(saved.replying).toBeNull();
    expect(saved.messages[1]).toEqual(done.message);
    const file = JSON.parse(await readFile(join(root, 'workspace', 'chats', `${chat.id}.json`), 'utf8'));
    expect(file.chat.messages).toEqual(saved.messages);
    expect(await core.call('chats.list', {})).toEqual([expect.objectContaining({ id: chat.id, title: 'Hello there', messageCount: 2, problem: null })]);

    const notices = events.filter((e) => e.name === 'chat.model').map((e) => e.data.message);
    expect(notices).toEqual(['Loading "one"…', '"one" is loaded. It was not trained to chat, so it writes on from the conversation as plain text.']);
  });

  it('stops a reply at once, regenerates it, and continues it', async () => {
    const chat = await core.call('chats.create', { modelId: models[0]!.id, sampling: long });
    const reply = replyOf(chat.id);
    const firstDelta = new Promise<void>((resolve) => {
      const off = core.onEvent((e) => {
        if (e.name === 'chat.delta' && e.data.chatId === chat.id) {
          off();
          resolve();
        }
      });
    });
    await core.call('chats.send', { id: chat.id, text: 'Hi' });
    await expect(core.call('chats.send', { id: chat.id, text: 'again' })).rejects.toThrow('A reply is still being written in this conversation.');
    await firstDelta;
    const stopped = await core.call('chats.stop', { id: chat.id });
    const { done } = await reply;
    expect(done.message.stats!.stopReason).toBe('aborted');
    expect(done.message.stats!.tokens).toBeLessThan(1900);
    expect(stopped.replying).toBeNull();
    expect(stopped.messages[1]).toEqual(done.message);

    await core.call('chats.update', { id: chat.id, sampling: { ...quick, seed: 5 } });
    const regenerated = replyOf(chat.id);
    const again = await core.call('chats.regenerate', { id: chat.id });
    expect(again.messages).toHaveLength(2);
    expect(again.messages[1]!.id).not.toBe(done.message.id);
    const second = (await regenerated).done.message;
    expect(second.stats!.seed).toBe(5);

    const continued = replyOf(chat.id);
    const extending = await core.call('chats.continue', { id: chat.id });
    expect(extending.replying).toBe(second.id);
    expect(extending.messages[1]!.text).toBe(second.text);
    const extended = (await continued).done.message;
    expect(extended.id).toBe(second.id);
    expect(extended.text.startsWith(second.text)).toBe(true);
    expect(extended.stats!.tokens).toBeGreaterThan(second.stats!.tokens);
    expect(extended.stats!.promptTokens + extended.stats!.cachedTokens).toBeGreaterThan(0);
  });

  it('explains what cannot be done, in words', async () => {
    const chat = await core.call('chats.create', { modelId: models[0]!.id, sampling: quick });
    await expect(core.call('chats.send', { id: chat.id, text: '   ' })).rejects.toThrow('Write a message first.');
    await expect(core.call('chats.regenerate', { id: chat.id })).rejects.toThrow('There is no message to answer yet. Write one first.');
    await expect(core.call('chats.continue', { id: chat.id })).rejects.toThrow('There is no reply to continue yet.');
    await core.call('chats.update', { id: chat.id, systemPrompt: 'x'.repeat(3000) });
    await expect(core.call('chats.send', { id: chat.id, text: 'Hi' })).rejects.toThrow(
      /^The system prompt is 3,0\d\d tokens long, but the model reads at most 2,048 tokens at once, its reply included/,
    );
    expect((await core.call('chats.get', { id: chat.id })).messages).toEqual([]);
    await expect(core.call('chats.update', { id: chat.id, title: '  ' })).rejects.toThrow('Give the conversation a name.');
    await expect(core.call('chats.create', { modelId: 'nope' })).rejects.toThrow('This model is no longer in the library.');
    await expect(core.call('chats.get', { id: 'nope' })).rejects.toThrow('This conversation no longer exists.');
    await expect(core.handle('chats.update', { id: chat.id, sampling: { ...quick, topP: 0 } })).resolves.toMatchObject({
      ok: false,
      error: { code: 'bad_request' },
    });
  });

  it('renames, exports and deletes a conversation, even while it replies', async () => {
    const chat = await core.call('chats.create', { modelId: models[0]!.id, sampling: quick });
    const reply = replyOf(chat.id);
    await core.call('chats.send', { id: chat.id, text: 'Hi' });
    await reply;
    const renamed = await core.call('chats.update', { id: chat.id, title: '  My   chat ' });
    expect(renamed.title).toBe('My chat');
    const md = await core.call('chats.export', { id: chat.id, format: 'markdown' });
    expect(md.fileName).toBe('My-chat.md');
    expect(md.text).toContain('## User\n\nHi\n');
    const json = await core.call('chats.export', { id: chat.id, format: 'json' });
    expect(JSON.parse(json.text).chat.title).toBe('My chat');

    await core.call('chats.update', { id: chat.id, sampling: long });
    await core.call('chats.send', { id: chat.id, text: 'More' });
    const list = await core.call('chats.delete', { id: chat.id });
    expect(list.map((c) => c.id)).not.toContain(chat.id);
    await expect(core.call('chats.get', { id: chat.id })).rejects.toThrow('no longer exists');
  });

  it('keeps two models loaded and says which one it unloads for a third', async () => {
    const chats = await Promise.all(models.map((m) => core.call('chats.create', { modelId: m.id, sampling: quick })));
    events.length = 0;
    for (const chat of chats.slice(1)) {
      const reply = replyOf(chat.id);
      await core.call('chats.send', { id: chat.id, text: 'Hi' });
      await reply;
    }
    const notices = events.filter((e) => e.name === 'chat.model').map((e) => e.data.message);
    expect(notices).toEqual([
      'Loading "two"…',
      expect.stringMatching(/^"two" is loaded\./),
      'Unloaded "one" to load "three": at most 2 models stay loaded at once.',
      'Loading "three"…',
      expect.stringMatching(/^"three" is loaded\./),
    ]);
  });

  it('holds a conversation longer than the context: older turns left out, every reply within the context, Continue included', async () => {
    const small = await core.call('models.open', { path: await writeChatModel(join(root, 'small'), { contextLength: 128, seed: 4 }) });
    // Asks for replies longer than the whole context, as the default of 512 tokens does on a small model.
    const chat = await core.call('chats.create', { modelId: small.id, sampling: { ...long, repetitionPenalty: 1.3, maxTokens: 512 } });
    const turns: ChatDone[] = [];
    for (const text of ['Tell me about the sea and the whale.', 'And then what happened on the ship?', 'How did the story end?']) {
      const reply = replyOf(chat.id);
      await core.call('chats.send', { id: chat.id, text });
      turns.push((await reply).done);
    }
    const continued = replyOf(chat.id);
    await core.call('chats.continue', { id: chat.id });
    turns.push((await continued).done);
    for (const { message } of turns) {
      const stats = message.stats!;
      expect(stats.error).toBeNull();
      // A continued reply counts all its parts; what ran for its last part fits the context.
      expect(stats.promptTokens + stats.cachedTokens).toBeLessThan(128);
    }
    expect(turns[0]!.message.stats!.contextCut).toBeNull();
    expect(turns[2]!.message.stats!.contextCut).toMatchObject({ leftOut: expect.any(Number) });
    expect(turns[2]!.message.stats!.contextCut!.leftOut).toBeGreaterThan(0);
    expect(turns[3]!.message.text.startsWith(turns[2]!.message.text)).toBe(true);
    expect(turns[3]!.message.stats!.tokens).toBeGreaterThan(turns[2]!.message.stats!.tokens);
  });
});

describe('chat requests with a converted model', () => {
  const root = mkdtempSync(join(tmpdir(), 'fas-chat-spiking-'));
  const core = new AppCore({ workspaceDir: join(root, 'workspace') });
  const notices: string[] = [];
  core.onEvent((e) => e.name === 'chat.model' && notices.push(e.data.message));
  let converted: ModelEntry;
  let plain: ModelEntry;

  beforeAll(async () => {
    converted = await core.call('models.open', { path: await writeConvertedChatModel(join(root, 'conv'), { contextLength: 1024, timesteps: 4 }) });
    plain = await core.call('models.open', { path: await writeChatModel(join(root, 'plain'), { contextLength: 1024 }) });
  });
  afterAll(() => core.chats.close());

  function doneOf(chatId: string): Promise<ChatDone> {
    return new Promise((resolve) => {
      const off = core.onEvent((e) => {
        if (e.name === 'chat.done' && e.data.chatId === chatId) {
          off();
          resolve(e.data);
        }
      });
    });
  }

  async function send(chatId: string, text: string): Promise<ChatDone> {
    const done = doneOf(chatId);
    await core.call('chats.send', { id: chatId, text });
    return done;
  }

  it("starts in the spiking mode at the folder's T and keeps each reply's firing rate, operations and energy", async () => {
    expect(converted.stage).toBe('calibrated');
    const chat = await core.call('chats.create', { modelId: converted.id, sampling: quick });
    expect(chat.mode).toEqual({ kind: 'snn', timesteps: 4 });
    const { message } = await send(chat.id, 'Hi');
    expect(message.stats).toMatchObject({ mode: { kind: 'snn', timesteps: 4 }, error: null });
    const ops = message.stats!.ops!;
    expect(ops.firingRates).toHaveLength(2);
    expect(ops.acsPerToken).toBeGreaterThan(0);
    expect(ops.annPicojoulesPerToken).toBeGreaterThan(0);
    expect(ops.counted).toMatch(/^MACs/);
    expect(notices).toEqual(['Loading "conv (spiking, T = 4)"…', expect.stringMatching(/^"conv \(spiking, T = 4\)" is loaded\./)]);
    expect((await core.call('chats.get', { id: chat.id })).messages[1]).toEqual(message);

    // The mode is the conversation's: the ANN on the same weights answers the next message.
    const changed = await core.call('chats.update', { id: chat.id, mode: { kind: 'ann' } });
    expect(changed.mode).toEqual({ kind: 'ann' });
    const second = (await send(chat.id, 'And you?')).message;
    expect(second.stats).toMatchObject({ mode: { kind: 'ann' }, ops: { acsPerToken: 0, firingRates: [] } });
    expect((await core.call('chats.get', { id: chat.id })).mode).toEqual({ kind: 'ann' });

    const md = await core.call('chats.export', { id: chat.id, format: 'markdown' });
    expect(md.text).toContain('## Assistant (conv, spiking, T = 4)');
    expect(md.text).toMatch(/; firing rate [\d.]+%; [\d.]+K? MACs \+ [\d.]+K? ACs per token; [\d.]+ µJ per token, \d+% (of|more than) the original's\*/);
    expect(md.text).toContain('## How the operations were counted');
    const json = JSON.parse((await core.call('chats.export', { id: chat.id, format: 'json' })).text);
    expect(json.chat.messages[1].stats.ops).toEqual(ops);
  });

  it('counts a continued reply over all its parts', async () => {
    const chat = await core.call('chats.create', { modelId: converted.id, mode: { kind: 'snn', timesteps: 2 }, sampling: quick });
    const first = (await send(chat.id, 'Hi')).message;
    const done = doneOf(chat.id);
    await core.call('chats.continue', { id: chat.id });
    const continued = (await done).message;
    expect(continued.stats!.ops!.positions).toBeGreaterThan(first.stats!.ops!.positions);
    expect(continued.stats!.ops!.firingRates).toHaveLength(2);
  });

  it('offers the spiking mode for converted models only, and gives a new model its own mode', async () => {
    await expect(core.call('chats.create', { modelId: plain.id, mode: { kind: 'snn', timesteps: 4 } })).rejects.toThrow(
      '"plain" is not a converted model, so it has no spiking mode. Chat with it as the original network, or convert it first.',
    );
    const chat = await core.call('chats.create', { modelId: plain.id });
    expect(chat.mode).toEqual({ kind: 'ann' });
    await expect(core.call('chats.update', { id: chat.id, mode: { kind: 'snn', timesteps: 4 } })).rejects.toThrow('"plain" is not a converted model');
    expect((await core.call('chats.update', { id: chat.id, modelId: converted.id })).mode).toEqual({ kind: 'snn', timesteps: 4 });
    expect((await core.call('chats.update', { id: chat.id, modelId: converted.id, mode: { kind: 'snn', timesteps: 32 } })).mode).toEqual({
      kind: 'snn',
      timesteps: 32,
    });
    expect((await core.call('chats.update', { id: chat.id, modelId: plain.id })).mode).toEqual({ kind: 'ann' });
    await expect(core.handle('chats.update', { id: chat.id, mode: { kind: 'snn', timesteps: 0 } })).resolves.toMatchObject({
      ok: false,
      error: { code: 'bad_request' },
    });
  });
});
