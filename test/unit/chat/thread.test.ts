// The UI's open conversation, against a fake API whose events can overtake its call results, as
// they can over HTTP (events and results travel on different connections).
import { describe, expect, it } from 'vitest';
import type { ApiEvent, Chat, ChatMessage, FasApi } from '../../../electron/api/contract.js';
import { DEFAULT_CHAT_SAMPLING } from '../../../electron/core/chat/sampling.js';
import { ChatThread } from '../../../renderer/src/chat/thread.svelte.js';

const user: ChatMessage = { id: 'u1', role: 'user', text: 'Hi', createdAt: '2026-03-01T10:00:00.000Z', stats: null };
const reply: ChatMessage = { id: 'a1', role: 'assistant', text: '', createdAt: '2026-03-01T10:00:01.000Z', stats: null };
const chat: Chat = {
  id: 'c1',
  title: '',
  createdAt: '2026-03-01T10:00:00.000Z',
  updatedAt: '2026-03-01T10:00:00.000Z',
  modelId: 'm',
  modelName: 'tiny',
  mode: { kind: 'ann' },
  systemPrompt: '',
  sampling: DEFAULT_CHAT_SAMPLING,
  messages: [],
  replying: null,
};
const finished: ChatMessage = {
  ...reply,
  text: 'Hello there',
  stats: {
    modelId: 'm',
    modelName: 'tiny',
    mode: { kind: 'ann' },
    tokens: 3,
    promptTokens: 9,
    cachedTokens: 0,
    timeToFirstTokenMs: 5,
    tokensPerSecond: 100,
    seconds: 0.05,
    seed: 1,
    stopReason: 'eos',
    error: null,
    ops: null,
    contextCut: null,
  },
};
const delta = (text: string): ApiEvent => ({ name: 'chat.delta', data: { chatId: 'c1', messageId: 'a1', text } });

/** An API whose chats.send resolves only when the test says so. */
function fakeApi() {
  let resolveSend = (_: Chat) => {};
  const calls: Array<[string, unknown]> = [];
  const api: FasApi = {
    call: (async (method: string, params: unknown) => {
      calls.push([method, params]);
      if (method === 'chats.send') return new Promise<Chat>((resolve) => (resolveSend = resolve));
      if (method === 'chats.update') return { ...chat, ...(params as object) };
      throw new Error(`unexpected ${method}`);
    }) as FasApi['call'],
    onEvent: () => () => {},
    openReport: async () => {},
  };
  return { api, calls, resolveSend: (c: Chat) => resolveSend(c) };
}

describe('an open conversation in the UI', () => {
  it('keeps what went wrong until another conversation is shown, such as a new one', async () => {
    const { api } = fakeApi();
    const thread = new ChatThread(api);
    thread.adopt(chat);
    expect(await thread.regenerate()).toBe(false);
    expect(thread.problem).toMatchObject({ message: 'unexpected chats.regenerate', doing: 'Writing a new reply' });
    thread.adopt({ ...chat, messages: [user] });
    expect(thread.problem).not.toBeNull();
    thread.adopt({ ...chat, id: 'c2' });
    expect(thread.problem).toBeNull();
  });

  it('places reply text that streams in before the send call returns', async () => {
    const { api, resolveSend } = fakeApi();
    const thread = new ChatThread(api);
    thread.adopt(chat);
    const sending = thread.send('Hi');
    await Promise.resolve();
    thread.apply(delta('Hel'));
    resolveSend({ ...chat, messages: [user, reply], replying: 'a1' });
    expect(await sending).toBe(true);
    expect(thread.chat!.messages[1]!.text).toBe('Hel');
    thread.apply(delta('lo'));
    expect(thread.chat!.messages[1]!.text).toBe('Hello');
    thread.apply({ name: 'chat.done', data: { chatId: 'c1', message: finished } });
    expect(thread.chat!.messages[1]).toEqual(finished);
    expect(thread.replying).toBeNull();
  });

  it('ends the reply when its end overtook the send call too, and ignores other conversations', async () => {
    const { api, resolveSend } = fakeApi();
    const thread = new ChatThread(api);
    thread.adopt(chat);
    const sending = thread.send('Hi');
    await Promise.resolve();
    thread.apply({ name: 'chat.delta', data: { chatId: 'other', messageId: 'x', text: 'nope' } });
    thread.apply(delta('Hello there'));
    thread.apply({ name: 'chat.done', data: { chatId: 'c1', message: finished } });
    resolveSend({ ...chat, messages: [user, reply], replying: 'a1' });
    await sending;
    expect(thread.chat!.messages).toEqual([user, finished]);
    expect(thread.replying).toBeNull();
  });

  it('sends only after the settings changed just before are saved, each building on the last', async () => {
    const { api, calls, resolveSend } = fakeApi();
    const thread = new ChatThread(api);
    thread.adopt(chat);
    void thread.update({ sampling: { ...thread.chat!.sampling, maxTokens: 24 } });
    void thread.update({ sampling: { ...thread.chat!.sampling, temperature: 0 } });
    const sending = thread.send('Hi');
    await new Promise((r) => setTimeout(r, 0));
    expect(calls.map(([method]) => method)).toEqual(['chats.update', 'chats.update', 'chats.send']);
    expect((calls[1]![1] as { sampling: object }).sampling).toMatchObject({ maxTokens: 24, temperature: 0 });
    resolveSend({ ...chat, messages: [user, reply], replying: 'a1' });
    await sending;
  });

  it('shows a new mode at once, and takes the mode the core chose for a new model', async () => {
    const { api, calls } = fakeApi();
    const thread = new ChatThread(api);
    thread.adopt({ ...chat, mode: { kind: 'snn', timesteps: 4 } });
    const saving = thread.update({ mode: { kind: 'snn', timesteps: 16 } });
    expect(thread.chat!.mode).toEqual({ kind: 'snn', timesteps: 16 });
    await saving;
    expect(thread.chat!.mode).toEqual({ kind: 'snn', timesteps: 16 });
    // The fake core answers a change of model with the conversation's saved mode: the ANN.
    await thread.update({ modelId: 'plain' });
    expect(calls.at(-1)).toEqual(['chats.update', { id: 'c1', modelId: 'plain' }]);
    expect(thread.chat).toMatchObject({ modelId: 'plain', mode: { kind: 'ann' } });
  });
});
