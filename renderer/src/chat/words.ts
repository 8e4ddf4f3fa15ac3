// The words the chat shows for a reply's stats.
import type { ReplyStats, ReplyStopReason } from '../../../electron/api/contract';

export const stopReasonWords: Record<ReplyStopReason, string> = {
  eos: 'The model ended its reply.',
  stop: 'The model began the next turn.',
  length: 'Reached the most tokens per reply.',
  context: "The reply filled the model's context: Continue carries on, leaving out the oldest messages.",
  aborted: 'Stopped.',
  error: 'Failed.',
};

/** "42 tokens · 18.3 tokens/s · first token after 0.21 s" */
export function statsSummary(stats: ReplyStats): string {
  const parts = [`${stats.tokens.toLocaleString('en')} ${stats.tokens === 1 ? 'token' : 'tokens'}`, `${stats.tokensPerSecond.toFixed(1)} tokens/s`];
  if (stats.timeToFirstTokenMs !== null) parts.push(`first token after ${(stats.timeToFirstTokenMs / 1000).toFixed(2)} s`);
  return parts.join(' · ');
}

/** "prompt: 120 tokens, 96 reused from the last reply · seed 1234" */
export function statsDetail(stats: ReplyStats): string {
  const prompt = stats.promptTokens + stats.cachedTokens;
  const reused = stats.cachedTokens > 0 ? `, ${stats.cachedTokens.toLocaleString('en')} reused from the last reply` : '';
  return `prompt: ${prompt.toLocaleString('en')} tokens${reused} · seed ${stats.seed}`;
}
