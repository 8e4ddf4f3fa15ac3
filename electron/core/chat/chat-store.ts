// Conversations as plain files in the workspace: chats/<id>.json, one per conversation, pretty
// JSON that people can read, back up or edit. Writes are atomic and, per conversation, one at a
// time, so a crash or two quick changes never lose or mangle one.
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Chat, ChatSummary } from '../../api/contract.js';
import { ApiError } from '../api/errors.js';
import { readJsonIfExists, writeJsonAtomic } from '../storage/json-file.js';
import { chatModeSchema } from './chat-schemas.js';
import { chatSamplingSchema } from './sampling.js';

/** A conversation as saved: everything but the live state of a reply being written. */
export type StoredChat = Omit<Chat, 'replying'>;

const ID_PATTERN = /^[A-Za-z0-9_-]{1,100}$/;
const FILE_VERSION = 1;

const opsSchema = z.object({
  positions: z.number(),
  macsPerToken: z.number(),
  acsPerToken: z.number(),
  annMacsPerToken: z.number(),
  picojoulesPerToken: z.number(),
  annPicojoulesPerToken: z.number(),
  firingRates: z.array(z.number()),
  counted: z.string(),
});

const statsSchema = z.object({
  modelId: z.string(),
  modelName: z.string(),
  mode: chatModeSchema,
  tokens: z.number(),
  promptTokens: z.number(),
  cachedTokens: z.number(),
  timeToFirstTokenMs: z.number().nullable(),
  tokensPerSecond: z.number(),
  seconds: z.number(),
  seed: z.number(),
  stopReason: z.enum(['eos', 'stop', 'length', 'context', 'aborted', 'error']),
  error: z.string().nullable(),
  // Replies saved before operations were counted have none.
  ops: opsSchema.nullable().default(null),
  // Replies saved before conversations were cut to fit say nothing of it.
  contextCut: z.object({ leftOut: z.number(), trimmed: z.boolean() }).nullable().default(null),
});

const chatSchema = z.object({
  id: z.string(),
  title: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  modelId: z.string(),
  modelName: z.string(),
  mode: chatModeSchema,
  systemPrompt: z.string(),
  sampling: chatSamplingSchema,
  messages: z.array(
    z.object({
      id: z.string(),
      role: z.enum(['user', 'assistant']),
      text: z.string(),
      createdAt: z.string(),
      stats: statsSchema.nullable(),
    }),
  ),
});

const fileSchema = z.object({ version: z.literal(FILE_VERSION), chat: chatSchema });

export class ChatStore {
  readonly dir: string;
  /** Per conversation, the last pending change: changes are chained so none reads a file another is rewriting. */
  private readonly pending = new Map<string, Promise<unknown>>();

  constructor(workspaceDir: string) {
    this.dir = join(workspaceDir, 'chats');
  }

  /** Every conversation, most recently changed first; one that cannot be read is listed with the reason. */
  async list(): Promise<ChatSummary[]> {
    const names = await readdir(this.dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [];
      throw err;
    });
    const ids = names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).map((n) => n.slice(0, -'.json'.length));
    const summaries = await Promise.all(
      ids
        .filter((id) => ID_PATTERN.test(id))
        .map(async (id): Promise<ChatSummary> => {
          try {
            return summarize(await this.get(id));
          } catch (err) {
            return { id, title: `${id}.json`, modelName: '', updatedAt: '', messageCount: 0, problem: err instanceof Error ? err.message : String(err) };
          }
        }),
    );
    return summaries.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  }

  async get(id: string): Promise<StoredChat> {
    await this.pending.get(id)?.catch(() => undefined);
    return this.read(id);
  }

  async create(chat: StoredChat): Promise<StoredChat> {
    checkId(chat.id);
    await mkdir(this.dir, { recursive: true });
    await writeJsonAtomic(this.file(chat.id), { version: FILE_VERSION, chat });
    return chat;
  }

  /** Reads, edits and saves one conversation, after any change to it still being saved. */
  update(id: string, edit: (chat: StoredChat) => StoredChat): Promise<StoredChat> {
    const next = (this.pending.get(id) ?? Promise.resolve())
      .catch(() => undefined)
      .then(async () => {
        const chat = edit(await this.read(id));
        await writeJsonAtomic(this.file(id), { version: FILE_VERSION, chat });
        return chat;
      });
    this.pending.set(id, next);
    return next;
  }

  async delete(id: string): Promise<void> {
    await this.get(id).catch((err: unknown) => {
      // A file that cannot be read can still be deleted; only a missing one is an error.
      if (err instanceof ApiError && err.code === 'not_found') throw err;
    });
    await rm(this.file(id), { force: true });
    this.pending.delete(id);
  }

  private async read(id: string): Promise<StoredChat> {
    checkId(id);
    const file = this.file(id);
    let saved: unknown;
    try {
      saved = await readJsonIfExists(file);
    } catch (err) {
      throw new ApiError('failed', `The conversation in ${file} could not be read (${(err as Error).message}). The file was left as it is.`);
    }
    if (saved === null) throw new ApiError('not_found', 'This conversation no longer exists. It may have been deleted.');
    const parsed = fileSchema.safeParse(saved);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.join('.') || 'the file';
      throw new ApiError('failed', `${file} is not a conversation this app can read (${where}: ${issue?.message}). The file was left as it is.`);
    }
    return { ...parsed.data.chat, id };
  }

  private file(id: string): string {
    return join(this.dir, `${id}.json`);
  }
}

function checkId(id: string): void {
  if (!ID_PATTERN.test(id)) throw new ApiError('not_found', 'This conversation no longer exists. It may have been deleted.');
}

export function summarize(chat: StoredChat): ChatSummary {
  return { id: chat.id, title: chat.title, modelName: chat.modelName, updatedAt: chat.updatedAt, messageCount: chat.messages.length, problem: null };
}
