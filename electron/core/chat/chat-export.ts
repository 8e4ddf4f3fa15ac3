// A conversation as a file to keep or share: Markdown to read, or JSON (the saved file itself) to
// process. The CLI writes the text to a file; the UI offers it as a download.
import type { ChatExport, ChatMessage, ReplyStats, ReplyStopReason } from '../../api/contract.js';
import type { StoredChat } from './chat-store.js';
import { replyModelWords } from '../../shared/chat-modes.js';
import { contextCutWords, opsParts } from '../../shared/reply-words.js';

export type ExportFormat = 'markdown' | 'json';

const stopWords: Record<ReplyStopReason, string> = {
  eos: 'the model ended its reply',
  stop: 'the model began the next turn',
  length: 'reached the most tokens allowed',
  context: "the model's context was full",
  aborted: 'stopped by the user',
  error: 'failed',
};

export function exportChat(chat: StoredChat, format: ExportFormat): ChatExport {
  const base = fileBaseName(chat.title);
  if (format === 'json') return { fileName: `${base}.json`, mimeType: 'application/json', text: `${JSON.stringify({ version: 1, chat }, null, 2)}\n` };
  return { fileName: `${base}.md`, mimeType: 'text/markdown', text: chatMarkdown(chat) };
}

export function chatMarkdown(chat: StoredChat): string {
  const lines = [`# ${chat.title || 'Conversation'}`, '', `- Model: ${chat.modelName}`, `- Started: ${chat.createdAt}`];
  if (chat.systemPrompt.trim()) lines.push('', '## System prompt', '', chat.systemPrompt.trim());
  for (const message of chat.messages) lines.push('', ...messageMarkdown(message));
  const counted = new Set(chat.messages.flatMap((m) => (m.stats?.ops ? [m.stats.ops.counted] : [])));
  if (counted.size > 0) lines.push('', '## How the operations were counted', '', [...counted].join('\n\n'));
  return `${lines.join('\n')}\n`;
}

function messageMarkdown(message: ChatMessage): string[] {
  if (message.role === 'user') return ['## User', '', message.text];
  const lines = [`## Assistant${message.stats ? ` (${replyModelWords(message.stats)})` : ''}`, '', message.text];
  if (message.stats) lines.push('', `*${statsLine(message.stats)}*`);
  return lines;
}

/**
 * "42 tokens, 18.3 tokens/s, first token after 0.21 s, the model ended its reply; firing rate 12.3%;
 * 1.2M MACs + 310K ACs per token; 4.56 µJ per token, 120% more than the original's"
 */
export function statsLine(stats: ReplyStats): string {
  const parts = [`${stats.tokens} tokens`, `${stats.tokensPerSecond.toFixed(1)} tokens/s`];
  if (stats.timeToFirstTokenMs !== null) parts.push(`first token after ${(stats.timeToFirstTokenMs / 1000).toFixed(2)} s`);
  parts.push(stats.error ? `failed: ${stats.error}` : stopWords[stats.stopReason]);
  return [parts.join(', '), ...(stats.ops ? opsParts(stats.ops) : []), ...(stats.contextCut ? [contextCutWords(stats.contextCut)] : [])].join('; ');
}

/** A file name from the title: letters, digits, dashes and underscores only. */
function fileBaseName(title: string): string {
  const cleaned = title
    .normalize('NFKD')
    .replace(/[^\w\s-]/g, '')
    .trim()
    .replace(/\s+/g, '-')
    .slice(0, 60);
  return cleaned || 'conversation';
}
