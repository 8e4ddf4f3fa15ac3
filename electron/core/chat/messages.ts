// Messages of a conversation: a new one, and the title the first one gives a conversation.
import { randomUUID } from 'node:crypto';
import type { ChatMessage } from '../../api/contract.js';

export function newMessage(role: ChatMessage['role'], text: string): ChatMessage {
  return { id: randomUUID(), role, text, createdAt: new Date().toISOString(), stats: null };
}

/** A title from the first message: its first line, at most 60 characters. */
export function titleFrom(messages: readonly ChatMessage[]): string {
  const first =
    messages
      .find((m) => m.role === 'user')
      ?.text.split('\n')[0]
      ?.trim() ?? '';
  return first.length > 60 ? `${first.slice(0, 59).trimEnd()}…` : first;
}
