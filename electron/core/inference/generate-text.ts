// Text generation over the engine's token generation: prompt encoding, streaming detokenisation,
// stop strings, cancellation and speed.
import type { NativeSession } from '../../../native/index.js';
import { StreamDetokenizer, type TextTokenizer } from '../model/tokenizer.js';
import { StopStringFilter } from './stop-strings.js';

export interface SamplingSettings {
  maxTokens: number;
  /** 0 = greedy. */
  temperature: number;
  topK: number;
  topP: number;
  repetitionPenalty: number;
  seed: number;
  /** Generation ends before any of these strings, which are not shown. */
  stop: string[];
}

export const DEFAULT_SAMPLING: SamplingSettings = { maxTokens: 128, temperature: 0.8, topK: 40, topP: 0.95, repetitionPenalty: 1.1, seed: 0, stop: [] };

export interface GeneratedText {
  text: string;
  tokens: number;
  stopReason: 'eos' | 'length' | 'stop' | 'aborted';
  tokensPerSecond: number;
}

export async function generateText(
  session: NativeSession,
  tokenizer: TextTokenizer,
  promptIds: readonly number[],
  settings: SamplingSettings,
  onText: (text: string) => void,
  signal?: AbortSignal,
): Promise<GeneratedText> {
  const detokenizer = new StreamDetokenizer(tokenizer);
  const filter = new StopStringFilter(settings.stop);
  let text = '';
  const emit = (piece: string) => {
    if (!piece) return;
    text += piece;
    onText(piece);
  };
  const onAbort = () => session.abort();
  signal?.addEventListener('abort', onAbort);
  const started = performance.now();
  let firstTokenAt = 0;
  let count = 0;
  try {
    if (signal?.aborted) return { text, tokens: 0, stopReason: 'aborted', tokensPerSecond: 0 };
    const result = await session.generate(
      {
        promptIds,
        maxTokens: settings.maxTokens,
        temperature: settings.temperature,
        topK: settings.topK,
        topP: settings.topP,
        repetitionPenalty: settings.repetitionPenalty,
        seed: settings.seed,
        eosIds: tokenizer.stopIds,
      },
      (id) => {
        if (count++ === 0) firstTokenAt = performance.now();
        emit(filter.push(detokenizer.push(id)));
        if (filter.stopped) session.abort();
      },
    );
    if (!filter.stopped) emit(filter.push(detokenizer.flush()) + filter.flush());
    // Decode speed: tokens after the first over the time since it came (the first pays for the prompt).
    const seconds = (performance.now() - (firstTokenAt || started)) / 1000;
    const tokensPerSecond = count > 1 && seconds > 0 ? (count - 1) / seconds : 0;
    const stopReason = filter.stopped ? 'stop' : result.stopReason;
    return { text, tokens: result.tokens.length, stopReason, tokensPerSecond };
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
