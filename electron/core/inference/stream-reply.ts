// One reply from the engine: the new prompt tokens in, text out as it is generated, with what a
// chat shows about it (time to first token, speed, why it ended, what the engine counted) and the
// generated ids (which the session's context now holds).
import type { InferenceStats, NativeSession } from '../../../native/index.js';
import { StreamDetokenizer, type TextTokenizer } from '../model/tokenizer.js';
import { StopStringFilter } from './stop-strings.js';

export interface ReplyOptions {
  maxTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  repetitionPenalty: number;
  seed: number;
  /** Text that ends the reply, never shown. */
  stopStrings: string[];
  /** Ids that end the reply, besides the tokenizer's end-of-sequence ids. */
  stopIds: number[];
}

export interface ReplyRun {
  text: string;
  /** The generated ids, every one now in the session's context. */
  ids: number[];
  stopReason: 'eos' | 'length' | 'stop' | 'aborted';
  /** From the start of the call to the first token: mostly the prompt's prefill. */
  timeToFirstTokenMs: number | null;
  /** Decode speed: tokens after the first over the time since it came. */
  tokensPerSecond: number;
  seconds: number;
  /** What the engine counted over the new prompt tokens and the reply; null when it did not run. */
  stats: InferenceStats | null;
}

export async function streamReply(
  session: NativeSession,
  tokenizer: TextTokenizer,
  promptIds: readonly number[],
  options: ReplyOptions,
  onText: (text: string) => void,
  signal: AbortSignal,
): Promise<ReplyRun> {
  const detokenizer = new StreamDetokenizer(tokenizer);
  const filter = new StopStringFilter(options.stopStrings);
  let text = '';
  const emit = (piece: string) => {
    if (!piece) return;
    text += piece;
    onText(piece);
  };
  const started = performance.now();
  let firstTokenAt: number | null = null;
  const ids: number[] = [];
  const onAbort = () => session.abort();
  signal.addEventListener('abort', onAbort);
  try {
    const result = signal.aborted
      ? { stopReason: 'aborted' as const, stats: null }
      : await session.generate(
          {
            promptIds,
            maxTokens: options.maxTokens,
            temperature: options.temperature,
            topK: options.topK,
            topP: options.topP,
            repetitionPenalty: options.repetitionPenalty,
            seed: options.seed,
            eosIds: [...new Set([...tokenizer.stopIds, ...options.stopIds])],
          },
          (id) => {
            firstTokenAt ??= performance.now();
            ids.push(id);
            emit(filter.push(detokenizer.push(id)));
            if (filter.stopped) session.abort();
          },
        );
    if (!filter.stopped) emit(filter.push(detokenizer.flush()) + filter.flush());
    const ended = performance.now();
    const decodeSeconds = (ended - (firstTokenAt ?? ended)) / 1000;
    return {
      text,
      ids,
      stopReason: filter.stopped ? 'stop' : result.stopReason,
      timeToFirstTokenMs: firstTokenAt === null ? null : firstTokenAt - started,
      tokensPerSecond: ids.length > 1 && decodeSeconds > 0 ? (ids.length - 1) / decodeSeconds : 0,
      seconds: (ended - started) / 1000,
      stats: result.stats,
    };
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
