// One open conversation in the UI: the conversation as the core last sent it, kept current by the
// reply's 'chat.delta' and 'chat.done' events, and the actions on it. Events travel apart from
// call results (over HTTP, on another connection), so the text of a reply that streams before the
// call that started it has returned is held until it can be placed.
// With its .js extension, as the unit tests type-check this module under Node's module resolution too.
import type { ApiEvent, Chat, ChatExport, ChatMessage, ChatMode, ChatSampling, FasApi } from '../../../electron/api/contract.js';

export interface Problem {
  message: string;
  /** What was being done, e.g. "Sending the message". */
  doing: string;
}

type Settings = { title?: string; modelId?: string; mode?: ChatMode; systemPrompt?: string; sampling?: ChatSampling };

export class ChatThread {
  chat: Chat | null = $state(null);
  /** A request is on its way (a reply starting, the model loading): its buttons wait. */
  busy = $state(false);
  problem: Problem | null = $state(null);
  readonly replying = $derived(this.chat?.replying ?? null);
  readonly lastMessage = $derived(this.chat?.messages.at(-1) ?? null);

  /** Settings still being saved: a reply starts only after them, so it uses them. */
  private saving: Promise<unknown> = Promise.resolve();
  /** Text and endings of replies not yet in `chat`, by message id. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, never rendered
  private early = new Map<string, { text: string; done: ChatMessage | null }>();

  constructor(private readonly api: FasApi) {}

  /** Shows a saved conversation (null: none). */
  async open(id: string | null): Promise<void> {
    this.early.clear();
    this.problem = null;
    if (id === null) this.chat = null;
    else {
      const chat = await this.attempt('Opening the conversation', () => this.api.call('chats.get', { id }));
      if (chat) this.adopt(chat);
    }
  }

  /** Takes a conversation from a call result, placing any reply text that came before it. */
  adopt(chat: Chat): void {
    // What went wrong in another conversation is not this one's.
    if (this.chat?.id !== chat.id) this.problem = null;
    this.chat = chat;
    const id = chat.replying;
    const held = id ? this.early.get(id) : undefined;
    this.early.clear();
    if (id && held?.done) this.finish(held.done);
    else if (id && held) this.append(id, held.text);
  }

  apply(event: ApiEvent): void {
    const chat = this.chat;
    if (!chat) return;
    if (event.name === 'chat.delta' && event.data.chatId === chat.id) {
      const { messageId, text } = event.data;
      if (chat.replying === messageId) this.append(messageId, text);
      else this.held(messageId).text += text;
    } else if (event.name === 'chat.done' && event.data.chatId === chat.id) {
      const { message } = event.data;
      if (chat.replying === message.id) this.finish(message);
      else this.held(message.id).done = message;
    }
  }

  send(text: string): Promise<boolean> {
    return this.start('Sending the message', (id) => this.api.call('chats.send', { id, text }));
  }

  regenerate(): Promise<boolean> {
    return this.start('Writing a new reply', (id) => this.api.call('chats.regenerate', { id }));
  }

  continue(): Promise<boolean> {
    return this.start('Continuing the reply', (id) => this.api.call('chats.continue', { id }));
  }

  async stop(): Promise<void> {
    const id = this.chat?.id;
    const chat = id ? await this.attempt('Stopping the reply', () => this.api.call('chats.stop', { id })) : undefined;
    if (chat) this.adopt(chat);
  }

  /** Saves settings or a new name, which apply from the next reply; true once saved. */
  async update(settings: Settings): Promise<boolean> {
    const id = this.chat?.id;
    if (!id || !this.chat) return false;
    // Shown at once, so a second change made before the first is saved builds on it.
    if (settings.systemPrompt !== undefined) this.chat.systemPrompt = settings.systemPrompt;
    if (settings.sampling) this.chat.sampling = settings.sampling;
    if (settings.mode) this.chat.mode = settings.mode;
    const saving = this.saving.then(() => this.attempt('Saving the conversation settings', () => this.api.call('chats.update', { id, ...settings })));
    this.saving = saving;
    const saved = await saving;
    if (!saved || this.chat?.id !== id) return false;
    // The settings shown and the live reply stay as they are: they may be newer than this copy. A new
    // model comes with the mode the core chose for it.
    const { systemPrompt, sampling, mode, messages, replying } = this.chat;
    this.chat = { ...saved, systemPrompt, sampling, mode: settings.modelId === undefined ? mode : saved.mode, messages, replying };
    return true;
  }

  /** The conversation as a file to download; null when that failed (see `problem`). */
  async exportAs(format: 'markdown' | 'json'): Promise<ChatExport | null> {
    const id = this.chat?.id;
    if (!id) return null;
    return (await this.attempt('Exporting the conversation', () => this.api.call('chats.export', { id, format }))) ?? null;
  }

  /** Deletes the conversation (stopping its reply); true once it is gone. */
  async remove(): Promise<boolean> {
    const id = this.chat?.id;
    if (!id) return false;
    const list = await this.attempt('Deleting the conversation', () => this.api.call('chats.delete', { id }));
    if (list) this.chat = null;
    return list !== undefined;
  }

  private async start(doing: string, call: (id: string) => Promise<Chat>): Promise<boolean> {
    const id = this.chat?.id;
    if (!id || this.busy) return false;
    this.busy = true;
    try {
      await this.saving;
      const chat = await this.attempt(doing, () => call(id));
      if (chat) this.adopt(chat);
      return chat !== undefined;
    } finally {
      this.busy = false;
    }
  }

  /** Runs an action, keeping what went wrong in `problem`; undefined when it failed. */
  private async attempt<T>(doing: string, action: () => Promise<T>): Promise<T | undefined> {
    this.problem = null;
    try {
      return await action();
    } catch (err) {
      this.problem = { message: err instanceof Error ? err.message : String(err), doing };
      return undefined;
    }
  }

  private append(messageId: string, text: string): void {
    const message = this.chat?.messages.find((m) => m.id === messageId);
    if (message) message.text += text;
  }

  private finish(done: ChatMessage): void {
    const chat = this.chat;
    if (!chat) return;
    const index = chat.messages.findIndex((m) => m.id === done.id);
    if (index === -1) chat.messages.push(done);
    else chat.messages[index] = done;
    chat.replying = null;
  }

  private held(messageId: string): { text: string; done: ChatMessage | null } {
    let entry = this.early.get(messageId);
    if (!entry) this.early.set(messageId, (entry = { text: '', done: null }));
    return entry;
  }
}
