// One reply with a conversation's settings, as the app and the CLI write it: the reply message as
// it ends, with the stats the chat shows under it. A failure ends up in the stats, never thrown.
import type { ChatMessage, ChatMode, ChatSampling, ReplyStats } from '../../api/contract.js';
import type { ChatModel } from './chat-model.js';
import { replySeed } from './sampling.js';

export interface ReplyRequest {
  /** The prompt's ids (ChatModel.promptIds). */
  ids: number[];
  sampling: ChatSampling;
  /** Which model writes it, as the stats name it. */
  origin: { modelId: string; modelName: string; mode: ChatMode };
  /** The reply message: a new, empty one, or the one Continue extends. */
  message: ChatMessage;
  continuing: boolean;
}

export type WrittenReply = ChatMessage & { stats: ReplyStats };

export async function writeReply(model: ChatModel, request: ReplyRequest, onText: (text: string) => void, signal: AbortSignal): Promise<WrittenReply> {
  const { ids, sampling, origin, message, continuing } = request;
  const seed = replySeed(sampling);
  // A continued reply's stats count the tokens of all its parts.
  const earlier = continuing ? (message.stats?.tokens ?? 0) : 0;
  const { maxTokens, temperature, topK, topP, repetitionPenalty } = sampling;
  let text = '';
  const show = (piece: string) => {
    text += piece;
    onText(piece);
  };
  let stats: ReplyStats;
  try {
    const run = await model.reply(ids, { maxTokens, temperature, topK, topP, repetitionPenalty, seed }, show, signal, continuing);
    stats = {
      ...origin,
      seed,
      tokens: earlier + run.ids.length,
      promptTokens: run.promptTokens,
      cachedTokens: run.cachedTokens,
      timeToFirstTokenMs: run.timeToFirstTokenMs,
      tokensPerSecond: run.tokensPerSecond,
      seconds: run.seconds,
      stopReason: run.contextFull ? 'context' : run.stopReason,
      error: null,
    };
  } catch (err) {
    const error = `The model failed while writing the reply: ${err instanceof Error ? err.message : String(err)}`;
    stats = { ...origin, seed, tokens: earlier, promptTokens: 0, cachedTokens: 0, timeToFirstTokenMs: null, tokensPerSecond: 0, seconds: 0, stopReason: 'error', error };
  }
  return { ...message, text: (continuing ? message.text + text : text).trimEnd(), stats };
}
