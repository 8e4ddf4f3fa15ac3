// One reply with a conversation's settings, as the app and the CLI write it: the reply message as
// it ends, with the stats the chat shows under it. A failure ends up in the stats, never thrown.
import type { ChatMessage, ChatMode, ChatSampling, ReplyOps, ReplyStats } from '../../api/contract.js';
import type { InferenceStats } from '../../../native/index.js';
import type { ChatModel, FittedPrompt } from './chat-model.js';
import { replySeed } from './sampling.js';

export interface ReplyRequest {
  /** The prompt, cut to fit the context (ChatModel.prompt). */
  prompt: FittedPrompt;
  sampling: ChatSampling;
  /** Which model writes it, as the stats name it. */
  origin: { modelId: string; modelName: string; mode: ChatMode };
  /** The reply message: a new, empty one, or the one Continue extends. */
  message: ChatMessage;
  continuing: boolean;
}

export type WrittenReply = ChatMessage & { stats: ReplyStats };

export async function writeReply(model: ChatModel, request: ReplyRequest, onText: (text: string) => void, signal: AbortSignal): Promise<WrittenReply> {
  const { prompt, sampling, origin, message, continuing } = request;
  const seed = replySeed(sampling);
  // A continued reply's stats count all its parts; its operations, those written in the same mode.
  const earlier = continuing ? (message.stats?.tokens ?? 0) : 0;
  const earlierOps = continuing && sameMode(message.stats?.mode, origin.mode) ? (message.stats?.ops ?? null) : null;
  const { maxTokens, temperature, topK, topP, repetitionPenalty } = sampling;
  let text = '';
  const show = (piece: string) => {
    text += piece;
    onText(piece);
  };
  let stats: ReplyStats;
  try {
    const run = await model.reply(prompt.ids, { maxTokens, temperature, topK, topP, repetitionPenalty, seed }, show, signal, continuing);
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
      ops: combineOps(earlierOps, run.stats && replyOps(run.stats)),
      contextCut: prompt.cut,
    };
  } catch (err) {
    const error = `The model failed while writing the reply: ${err instanceof Error ? err.message : String(err)}`;
    stats = {
      ...origin,
      seed,
      tokens: earlier,
      promptTokens: 0,
      cachedTokens: 0,
      timeToFirstTokenMs: null,
      tokensPerSecond: 0,
      seconds: 0,
      stopReason: 'error',
      error,
      ops: earlierOps,
      contextCut: prompt.cut,
    };
  }
  return { ...message, text: (continuing ? message.text + text : text).trimEnd(), stats };
}

/** The engine's counts as a reply keeps them; null when it ran no position. */
export function replyOps(stats: InferenceStats): ReplyOps | null {
  if (stats.tokens === 0) return null;
  return {
    positions: stats.tokens,
    macsPerToken: stats.macsPerToken,
    acsPerToken: stats.acsPerToken,
    annMacsPerToken: stats.annMacsPerToken,
    picojoulesPerToken: stats.energyPerToken.picojoules,
    annPicojoulesPerToken: stats.energyPerToken.annPicojoules,
    firingRates: stats.firingRates,
    ...(stats.sites.length > 0 && {
      sites: stats.sites.map((s) => ({ site: s.site, meanCount: s.firingRate * stats.timesteps, picojoulesPerToken: s.picojoulesPerToken })),
    }),
    counted: stats.counted,
  };
}

/** The counts of two parts of a reply, in the same mode: per-token values weighted by their positions. */
export function combineOps(earlier: ReplyOps | null, later: ReplyOps | null): ReplyOps | null {
  if (!earlier || !later) return later ?? earlier;
  const positions = earlier.positions + later.positions;
  const mean = (a: number, b: number) => (a * earlier.positions + b * later.positions) / positions;
  return {
    positions,
    macsPerToken: mean(earlier.macsPerToken, later.macsPerToken),
    acsPerToken: mean(earlier.acsPerToken, later.acsPerToken),
    annMacsPerToken: mean(earlier.annMacsPerToken, later.annMacsPerToken),
    picojoulesPerToken: mean(earlier.picojoulesPerToken, later.picojoulesPerToken),
    annPicojoulesPerToken: mean(earlier.annPicojoulesPerToken, later.annPicojoulesPerToken),
    firingRates: later.firingRates.map((rate, layer) => mean(earlier.firingRates[layer] ?? rate, rate)),
    ...(later.sites && {
      sites: later.sites.map((s, i) => {
        const before = earlier.sites?.[i] ?? s;
        return { site: s.site, meanCount: mean(before.meanCount, s.meanCount), picojoulesPerToken: mean(before.picojoulesPerToken, s.picojoulesPerToken) };
      }),
    }),
    counted: later.counted,
  };
}

function sameMode(a: ChatMode | undefined, b: ChatMode): boolean {
  return a !== undefined && JSON.stringify(a) === JSON.stringify(b);
}
