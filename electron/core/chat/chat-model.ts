// A model loaded for chatting in one mode (the ANN, or the spiking model at T): its prompt format and
// one generation session in that mode, whose key/value cache carries over from reply to reply. When
// the next prompt extends what the session already holds (the usual case: the previous prompt, the
// reply, then the new message), only the new tokens run; otherwise the session starts over.
import { basename } from 'node:path';
import type { ChatMode, ContextCut } from '../../api/contract.js';
import type { NativeSession, SessionOptions } from '../../../native/index.js';
import { availableMemoryBytes, chatContext } from '../estimate/memory-guard.js';
import { loadOpenedModel, type LoadedModel } from '../inference/loaded-model.js';
import { openModelFolder } from '../model/folder.js';
import { folderPromptFormat } from './chat-template.js';
import type { PromptFormat, PromptMessage } from './prompt-format.js';
import { streamReply, type ReplyOptions, type ReplyRun } from '../inference/stream-reply.js';

/** Thrown when even the system prompt with an empty message leaves no room for a reply. */
export class PromptTooLongError extends Error {
  constructor(
    readonly tokens: number,
    readonly limit: number,
  ) {
    super(
      `The system prompt is ${tokens.toLocaleString('en')} tokens long, but the model reads at most ${limit.toLocaleString('en')} ` +
        'tokens at once, its reply included, so no message fits beside it. Shorten the system prompt.',
    );
    this.name = 'PromptTooLongError';
  }
}

/** A prompt cut to fit the context: the newest messages that fit, with room left for a reply. */
export interface FittedPrompt {
  ids: number[];
  /** What the model does not see; null when the whole conversation fits. */
  cut: ContextCut | null;
}

export type Sampling = Omit<ReplyOptions, 'stopStrings' | 'stopIds'>;

export interface ModelReply extends ReplyRun {
  /** Prompt tokens run for this reply. */
  promptTokens: number;
  /** Prompt tokens the session already held from the previous reply. */
  cachedTokens: number;
  /** The reply ended because the context was full. */
  contextFull: boolean;
}

export class ChatModel {
  /** Every token the session's context holds. */
  private context: number[] = [];
  /** Replies run one at a time on the one session. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly loaded: LoadedModel,
    /** A session in the chat's mode. */
    private readonly session: NativeSession,
    readonly format: PromptFormat,
    /** Why the model's own chat template is not used; null when nothing needs saying. */
    readonly formatNote: string | null,
    /** Tokens the chat reads at once: the model's context, or less when memory is short (memory-guard.ts). */
    readonly contextLength: number,
    /** Why the context is shorter than the model's; null when it is not. */
    readonly contextNote: string | null,
  ) {}

  /**
   * The prompt for the next reply, cut to leave room for it (`maxTokens`, at most a quarter of the
   * context): when the conversation is too long the oldest messages are left out (from a message of
   * the user, so the turns still alternate), and when the last message alone is too long its start is
   * cut. Throws PromptTooLongError when the system prompt leaves no room at all.
   */
  async prompt(system: string, messages: readonly PromptMessage[], continueLast: boolean, maxTokens: number): Promise<FittedPrompt> {
    const budget = this.contextLength - Math.max(1, Math.min(maxTokens, Math.floor(this.contextLength / 4)));
    const encode = async (kept: readonly PromptMessage[]) =>
      this.loaded.tokenizer.encode(await this.format.render(system, kept, continueLast), { addSpecialTokens: this.format.addSpecialTokens });
    const whole = await encode(messages);
    if (whole.length <= budget) return { ids: whole, cut: null };
    const last = messages.length - 1;
    for (let start = 1; start <= last; start++) {
      if (start < last && messages[start]!.role !== 'user') continue;
      const ids = await encode(messages.slice(start));
      if (ids.length <= budget) return { ids, cut: { leftOut: start, trimmed: false } };
    }
    // The last message alone is too long: keep as much of its end as fits.
    const message = messages[last]!;
    const withEnd = (from: number) => encode([{ ...message, text: message.text.slice(from) }]);
    const empty = await withEnd(message.text.length);
    if (empty.length > budget) throw new PromptTooLongError(empty.length, this.contextLength);
    let [lo, hi] = [0, message.text.length]; // the smallest cut that fits lies in (lo, hi]
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if ((await withEnd(mid)).length <= budget) hi = mid;
      else lo = mid;
    }
    return { ids: await withEnd(hi), cut: { leftOut: last, trimmed: true } };
  }

  /**
   * Generates a reply to the prompt, after any reply still running on this model. A new reply's text
   * starts at its first visible character (the plain format's "Assistant:" is followed by a space);
   * a continued one keeps its leading space.
   */
  reply(ids: readonly number[], sampling: Sampling, onText: (text: string) => void, signal: AbortSignal, continuing = false): Promise<ModelReply> {
    const run = this.queue.then(() => this.run(ids, sampling, onText, signal, continuing));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async run(ids: readonly number[], sampling: Sampling, onText: (text: string) => void, signal: AbortSignal, continuing: boolean): Promise<ModelReply> {
    const cached = startsWith(ids, this.context) ? this.context.length : 0;
    if (cached === 0 && this.context.length > 0) this.session.reset();
    this.context = [];
    const promptIds = ids.slice(cached);
    let started = continuing;
    const show = (piece: string) => {
      const text = started ? piece : piece.trimStart();
      started ||= text !== '';
      if (text) onText(text);
    };
    // A reply may fill the context, never more: past it the cache would outgrow what was checked.
    const maxTokens = Math.max(1, Math.min(sampling.maxTokens, this.contextLength - ids.length));
    const options: ReplyOptions = { ...sampling, maxTokens, stopStrings: this.format.stopStrings, stopIds: this.format.stopIds };
    const run = await streamReply(this.session, this.loaded.tokenizer, promptIds, options, show, signal).catch((err: unknown) => {
      this.session.reset();
      throw err;
    });
    this.context = [...ids, ...run.ids];
    const contextFull = run.stopReason === 'length' && this.context.length >= this.contextLength;
    return { ...run, promptTokens: promptIds.length, cachedTokens: cached, contextFull };
  }

  dispose(): void {
    this.loaded.engine.dispose();
  }
}

/** `ids` starts with all of `prefix`. */
function startsWith(ids: readonly number[], prefix: readonly number[]): boolean {
  return prefix.length <= ids.length && prefix.every((id, i) => ids[i] === id);
}

/**
 * Loads a model folder for chatting in the given mode, after checking that its weights, cache and
 * work buffers fit in the memory available (a shorter context when only that fits).
 */
export async function openChatModel(dir: string, mode: ChatMode, availableBytes: () => number = availableMemoryBytes): Promise<ChatModel> {
  const folder = await openModelFolder(dir);
  const timesteps = mode.kind === 'snn' ? mode.timesteps : 1;
  const label = `"${basename(folder.dir)}" as ${mode.kind === 'snn' ? `the spiking model at T = ${timesteps}` : 'the original model'}`;
  const context = chatContext({ label, spec: folder.spec, parameters: folder.summary.parameterCount }, timesteps, availableBytes());
  const loaded = await loadOpenedModel(folder);
  try {
    const session = loaded.engine.createSession(sessionOptions(loaded, mode));
    const { format, note } = await folderPromptFormat(loaded.folder, loaded.tokenizer);
    return new ChatModel(loaded, session, format, note, context.contextLength, context.note);
  } catch (err) {
    loaded.engine.dispose();
    throw err;
  }
}

/**
 * The one place a chat mode becomes an engine session: the ANN (a converted model's weights with the
 * original activation), or the spiking model at T, which only a converted folder has.
 */
function sessionOptions(loaded: LoadedModel, mode: ChatMode): SessionOptions {
  switch (mode.kind) {
    case 'ann':
      return { mode: 'ann' };
    case 'snn':
      if (!loaded.spiking) throw new Error(`${loaded.folder.dir} is not a converted model (it has no spiking_config.json), so it has no spiking mode.`);
      return { mode: 'snn', timesteps: mode.timesteps };
  }
}
