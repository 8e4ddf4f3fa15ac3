// The chat requests: conversations kept as files (ChatStore), models loaded on demand (ModelHost),
// and replies written in the background while their text streams to every UI as 'chat.delta'
// events, ending with 'chat.done'. One reply at a time per conversation; Stop aborts it at once.
import { randomUUID } from 'node:crypto';
import type { ApiEvent, Chat, ChatMessage, ChatMode, ModelEntry, ParamsOf, ResultOf } from '../../api/contract.js';
import { ApiError } from '../api/errors.js';
import type { ModelLibrary } from '../library/library.js';
import type { ChatModel, FittedPrompt } from './chat-model.js';
import { exportChat } from './chat-export.js';
import { defaultMode, modelInMode } from '../../shared/chat-modes.js';
import type { ChatMethodName } from './chat-schemas.js';
import { ChatStore, type StoredChat } from './chat-store.js';
import { newMessage, titleFrom } from './messages.js';
import { ModelHost, type ModelLease } from './model-host.js';
import { DEFAULT_CHAT_SAMPLING } from './sampling.js';
import { TextBatcher } from './text-batcher.js';
import { writeReply } from './write-reply.js';

export type ChatHandlers = { [M in ChatMethodName]: (params: ParamsOf<M>) => Promise<ResultOf<M>> };

export interface ChatServiceOptions {
  workspaceDir: string;
  library: ModelLibrary;
  emit: (event: ApiEvent) => void;
}

/** A reply from the moment it is asked for (the model may still be loading) until it is saved. */
interface Reply {
  controller: AbortController;
  /** The reply message as it started (a continued reply's earlier text included); null while starting. */
  message: ChatMessage | null;
  /** Its text so far. */
  text: string;
  /** Settles once the reply is saved, or failed to start. */
  finished: Promise<void>;
}

/** What a reply answers: the messages before it, and the reply message itself. */
interface ReplyPlan {
  history: ChatMessage[];
  reply: ChatMessage;
  /** Extend `reply` (Continue) rather than write a new one. */
  continueLast: boolean;
}

/** A reply ready to be written: what it answers, the model that writes it, and the prompt. */
interface ReplyJob {
  chat: StoredChat;
  history: ChatMessage[];
  message: ChatMessage;
  continueLast: boolean;
  entry: ModelEntry;
  lease: ModelLease;
  prompt: FittedPrompt;
}

const BUSY = 'A reply is still being written in this conversation. Stop it first, or wait for it to finish.';

export class ChatService {
  readonly store: ChatStore;
  readonly handlers: ChatHandlers;
  private readonly models: ModelHost;
  private readonly replies = new Map<string, Reply>();

  constructor(private readonly options: ChatServiceOptions) {
    this.store = new ChatStore(options.workspaceDir);
    this.models = new ModelHost((notice) => options.emit({ name: 'chat.model', data: notice }));
    this.handlers = {
      'chats.list': () => this.store.list(),
      'chats.get': async ({ id }) => this.view(await this.store.get(id)),
      'chats.create': (params) => this.create(params),
      'chats.update': (params) => this.update(params),
      'chats.delete': async ({ id }) => {
        await this.stopReply(id);
        await this.store.delete(id);
        return this.store.list();
      },
      'chats.export': async ({ id, format }) => exportChat(await this.store.get(id), format),
      'chats.send': ({ id, text }) => this.startReply(id, (chat) => planSend(chat, text)),
      'chats.regenerate': ({ id }) => this.startReply(id, planRegenerate),
      'chats.continue': ({ id }) => this.startReply(id, planContinue),
      'chats.stop': async ({ id }) => {
        await this.stopReply(id);
        return this.view(await this.store.get(id));
      },
    };
  }

  /** Stops every reply and unloads the models. */
  async close(): Promise<void> {
    await Promise.all([...this.replies.keys()].map((id) => this.stopReply(id)));
    await this.models.close();
  }

  private async create(params: ParamsOf<'chats.create'>): Promise<Chat> {
    const entry = await this.modelEntry(params.modelId);
    const now = new Date().toISOString();
    const chat: StoredChat = {
      id: randomUUID(),
      title: params.title?.replace(/\s+/g, ' ').trim() ?? '',
      createdAt: now,
      updatedAt: now,
      modelId: entry.id,
      modelName: entry.name,
      mode: params.mode ? checkMode(entry, params.mode) : defaultMode(entry),
      systemPrompt: params.systemPrompt ?? '',
      sampling: params.sampling ?? DEFAULT_CHAT_SAMPLING,
      messages: [],
    };
    return this.view(await this.store.create(chat));
  }

  private async update({ id, title, modelId, mode, ...settings }: ParamsOf<'chats.update'>): Promise<Chat> {
    const cleanTitle = title?.replace(/\s+/g, ' ').trim();
    if (cleanTitle === '') throw new ApiError('bad_request', 'Give the conversation a name.');
    const model = modelId === undefined && mode === undefined ? {} : await this.modelChange(id, modelId, mode);
    const changes = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
    const chat = await this.store.update(id, (c) => ({ ...c, ...changes, ...model, title: cleanTitle ?? c.title, updatedAt: new Date().toISOString() }));
    return this.view(chat);
  }

  /** A change of model or mode: another model runs in the mode given, or else in its default mode. */
  private async modelChange(id: string, modelId: string | undefined, mode: ChatMode | undefined): Promise<Pick<Chat, 'modelId' | 'modelName' | 'mode'>> {
    const entry = await this.modelEntry(modelId ?? (await this.store.get(id)).modelId);
    return { modelId: entry.id, modelName: entry.name, mode: mode ? checkMode(entry, mode) : defaultMode(entry) };
  }

  /** Starts a reply planned from the saved conversation; resolves with the conversation as the reply begins. */
  private async startReply(id: string, plan: (chat: StoredChat) => ReplyPlan): Promise<Chat> {
    if (this.replies.has(id)) throw new ApiError('bad_request', BUSY);
    let settle = () => {};
    const reply: Reply = { controller: new AbortController(), message: null, text: '', finished: new Promise((resolve) => (settle = resolve)) };
    this.replies.set(id, reply);
    let lease: ModelLease | null = null;
    try {
      const chat = await this.store.get(id);
      const { history, reply: message, continueLast } = plan(chat);
      const entry = await this.modelEntry(chat.modelId);
      const mode = checkMode(entry, chat.mode);
      // A converted model loads once per mode: the notices name the mode.
      lease = await this.models.acquire({ id: entry.id, name: modelInMode(entry, mode), path: entry.path, mode });
      const prompt = await fitPrompt(lease.model, chat, continueLast ? [...history, message] : history, continueLast);
      const saved = await this.store.update(id, (c) => ({
        ...c,
        title: c.title || titleFrom(history),
        messages: continueLast ? [...history, message] : history,
        updatedAt: new Date().toISOString(),
      }));
      reply.message = message;
      reply.text = message.text;
      void this.write(reply, { chat: saved, history, message, continueLast, entry, lease, prompt }).finally(settle);
      return this.view(saved);
    } catch (err) {
      lease?.release();
      this.replies.delete(id);
      settle();
      throw err;
    }
  }

  /** Generates the reply, streaming its text, then saves it and announces it. Never throws. */
  private async write(reply: Reply, { chat, history, message, continueLast, entry, lease, prompt }: ReplyJob): Promise<void> {
    const deltas = new TextBatcher((text) => {
      reply.text += text;
      this.options.emit({ name: 'chat.delta', data: { chatId: chat.id, messageId: message.id, text } });
    });
    const request = {
      prompt,
      sampling: chat.sampling,
      origin: { modelId: entry.id, modelName: entry.name, mode: chat.mode },
      message,
      continuing: continueLast,
    };
    let done = await writeReply(lease.model, request, (text) => deltas.push(text), reply.controller.signal).finally(() => lease.release());
    deltas.flush();
    try {
      await this.store.update(chat.id, (c) => ({ ...c, messages: [...history, done], updatedAt: new Date().toISOString() }));
    } catch (err) {
      const error = `The reply could not be saved: ${err instanceof Error ? err.message : String(err)}`;
      done = { ...done, stats: { ...done.stats, stopReason: 'error', error } };
    }
    this.replies.delete(chat.id);
    this.options.emit({ name: 'chat.done', data: { chatId: chat.id, message: done } });
  }

  private async stopReply(id: string): Promise<void> {
    const reply = this.replies.get(id);
    if (!reply) return;
    reply.controller.abort();
    await reply.finished;
  }

  /** A saved conversation with the reply being written, as far as it has come. */
  private view(chat: StoredChat): Chat {
    const reply = this.replies.get(chat.id);
    const message = reply?.message;
    if (!reply || !message) return { ...chat, replying: null };
    const live: ChatMessage = { ...message, text: reply.text, stats: null };
    const messages = chat.messages.at(-1)?.id === message.id ? [...chat.messages.slice(0, -1), live] : [...chat.messages, live];
    return { ...chat, messages, replying: message.id };
  }

  private async modelEntry(modelId: string): Promise<ModelEntry> {
    const entry = await this.options.library.get(modelId).catch((err: unknown) => {
      if (err instanceof ApiError && err.code === 'not_found') {
        throw new ApiError('bad_request', 'This model is no longer in the library. Choose another model, or open its folder again in the Library.');
      }
      throw err;
    });
    if (entry.problem) throw new ApiError('bad_request', `"${entry.name}" cannot be used right now: ${entry.problem}`);
    return entry;
  }
}

/** The mode, when the model can run in it: only a converted model has a spiking mode. */
function checkMode(entry: ModelEntry, mode: ChatMode): ChatMode {
  if (mode.kind === 'snn' && !entry.spiking) {
    throw new ApiError(
      'bad_request',
      `"${entry.name}" is not a converted model, so it has no spiking mode. Chat with it as the original network, or convert it first.`,
    );
  }
  return mode;
}

function planSend(chat: StoredChat, text: string): ReplyPlan {
  if (!text.trim()) throw new ApiError('bad_request', 'Write a message first.');
  if (chat.messages.at(-1)?.role === 'user') {
    throw new ApiError('bad_request', 'The last message has no reply yet. Use Regenerate to answer it.');
  }
  return { history: [...chat.messages, newMessage('user', text.trim())], reply: newMessage('assistant', ''), continueLast: false };
}

function planRegenerate(chat: StoredChat): ReplyPlan {
  const history = chat.messages.at(-1)?.role === 'assistant' ? chat.messages.slice(0, -1) : chat.messages;
  if (history.at(-1)?.role !== 'user') throw new ApiError('bad_request', 'There is no message to answer yet. Write one first.');
  return { history, reply: newMessage('assistant', ''), continueLast: false };
}

function planContinue(chat: StoredChat): ReplyPlan {
  const last = chat.messages.at(-1);
  if (last?.role !== 'assistant' || !last.text) throw new ApiError('bad_request', 'There is no reply to continue yet.');
  return { history: chat.messages.slice(0, -1), reply: last, continueLast: true };
}

/** The prompt, cut to fit; a system prompt that is too long, or a conversation the model's chat template refuses, is the user's to change. */
async function fitPrompt(model: ChatModel, chat: StoredChat, messages: ChatMessage[], continueLast: boolean): Promise<FittedPrompt> {
  try {
    return await model.prompt(
      chat.systemPrompt,
      messages.map((m) => ({ role: m.role, text: m.text })),
      continueLast,
      chat.sampling.maxTokens,
    );
  } catch (err) {
    throw new ApiError('bad_request', err instanceof Error ? err.message : String(err));
  }
}
