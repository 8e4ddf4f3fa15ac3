import { mkdtempSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ReplyStats } from '../../../electron/api/contract.js';
import { ChatStore, type StoredChat } from '../../../electron/core/chat/chat-store.js';
import { chatMarkdown, exportChat } from '../../../electron/core/chat/chat-export.js';
import { DEFAULT_CHAT_SAMPLING } from '../../../electron/core/chat/sampling.js';

function chat(id: string, updatedAt: string, title = ''): StoredChat {
  return {
    id,
    title,
    createdAt: '2026-03-01T10:00:00.000Z',
    updatedAt,
    modelId: 'abc123',
    modelName: 'tiny-llama',
    mode: { kind: 'ann' },
    systemPrompt: '',
    sampling: DEFAULT_CHAT_SAMPLING,
    messages: [],
  };
}

const store = () => new ChatStore(mkdtempSync(join(tmpdir(), 'fas-chats-')));

describe('chat history store', () => {
  it('saves each conversation as plain JSON in chats/<id>.json and lists the newest first', async () => {
    const s = store();
    expect(await s.list()).toEqual([]);
    await s.create(chat('older', '2026-03-01T10:00:00.000Z', 'Older'));
    await s.create(chat('newer', '2026-03-02T10:00:00.000Z', 'Newer'));
    expect((await s.list()).map((c) => c.title)).toEqual(['Newer', 'Older']);
    expect(await readdir(s.dir)).toEqual(['newer.json', 'older.json']);
    const saved = JSON.parse(await readFile(join(s.dir, 'older.json'), 'utf8'));
    expect(saved).toEqual({ version: 1, chat: chat('older', '2026-03-01T10:00:00.000Z', 'Older') });
    expect(await s.get('older')).toEqual(chat('older', '2026-03-01T10:00:00.000Z', 'Older'));
  });

  it('renames through update, one change after another, leaving no temporary files', async () => {
    const s = store();
    await s.create(chat('a', '2026-03-01T10:00:00.000Z'));
    const edits = Array.from({ length: 10 }, (_, i) =>
      s.update('a', (c) => ({
        ...c,
        title: `Title ${i}`,
        messages: [...c.messages, { id: `m${i}`, role: 'user', text: `${i}`, createdAt: c.createdAt, stats: null }],
      })),
    );
    await Promise.all(edits);
    const after = await s.get('a');
    expect(after.title).toBe('Title 9');
    expect(after.messages.map((m) => m.text)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(await readdir(s.dir)).toEqual(['a.json']);
    expect((await s.list())[0]).toMatchObject({ id: 'a', title: 'Title 9', messageCount: 10, problem: null });
  });

  it('deletes a conversation, and says so for one that is gone', async () => {
    const s = store();
    await s.create(chat('a', '2026-03-01T10:00:00.000Z'));
    await s.delete('a');
    expect(await s.list()).toEqual([]);
    await expect(s.get('a')).rejects.toMatchObject({ code: 'not_found', message: 'This conversation no longer exists. It may have been deleted.' });
    await expect(s.delete('a')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('refuses ids that could name another file', async () => {
    const s = store();
    await expect(s.get('../library')).rejects.toMatchObject({ code: 'not_found' });
    await expect(s.create(chat('a/b', '2026-03-01T10:00:00.000Z'))).rejects.toMatchObject({ code: 'not_found' });
  });

  it('lists a damaged file with the reason, leaves it as it is, and can delete it', async () => {
    const s = store();
    await s.create(chat('good', '2026-03-01T10:00:00.000Z', 'Good'));
    await writeFile(join(s.dir, 'bad.json'), '{"version": 1, "chat": {"id": "bad"');
    await writeFile(join(s.dir, 'old.json'), JSON.stringify({ version: 1, chat: { ...chat('old', 'x'), messages: 'none' } }));
    const list = await s.list();
    expect(list.map((c) => c.id)).toEqual(['good', 'bad', 'old']);
    expect(list[1]!.problem).toMatch(/^The conversation in .*bad\.json could not be read \(.+\)\. The file was left as it is\.$/);
    expect(list[2]!.problem).toMatch(/old\.json is not a conversation this app can read \(chat\.messages: .+\)/);
    expect(await readFile(join(s.dir, 'bad.json'), 'utf8')).toBe('{"version": 1, "chat": {"id": "bad"');
    await s.delete('bad');
    expect((await s.list()).map((c) => c.id)).toEqual(['good', 'old']);
  });
});

const counted = 'MACs: every linear layer. ACs: spikes x fan-out.';
const spikingStats: ReplyStats = {
  modelId: 'abc123',
  modelName: 'tiny-llama',
  mode: { kind: 'snn', timesteps: 4 },
  tokens: 5,
  promptTokens: 12,
  cachedTokens: 33,
  timeToFirstTokenMs: 300,
  tokensPerSecond: 10,
  seconds: 0.8,
  seed: 8,
  stopReason: 'length',
  error: null,
  ops: {
    positions: 17,
    macsPerToken: 30_000,
    acsPerToken: 2_000,
    annMacsPerToken: 10_000,
    picojoulesPerToken: 139_800,
    annPicojoulesPerToken: 46_000,
    firingRates: [0.1, 0.3],
    counted,
  },
  contextCut: { leftOut: 2, trimmed: false },
};

describe('the spiking mode and its stats in the history', () => {
  it("keeps a spiking conversation, its mode and every reply's operations", async () => {
    const s = store();
    const spiking: StoredChat = {
      ...chat('s', '2026-03-01T10:00:00.000Z', 'Spikes'),
      mode: { kind: 'snn', timesteps: 4 },
      messages: [{ id: 'a', role: 'assistant', text: 'Hi.', createdAt: '2026-03-01T10:00:01.000Z', stats: spikingStats }],
    };
    await s.create(spiking);
    expect(await s.get('s')).toEqual(spiking);
  });

  it('reads replies saved before operations were counted', async () => {
    const s = store();
    const { ops: _, contextCut: _cut, ...older } = spikingStats;
    const message = { id: 'a', role: 'assistant', text: 'Hi.', createdAt: '2026-03-01T10:00:01.000Z', stats: { ...older, mode: { kind: 'ann' } } };
    await s.create(chat('old', '2026-03-01T10:00:00.000Z'));
    await writeFile(join(s.dir, 'old.json'), JSON.stringify({ version: 1, chat: { ...chat('old', '2026-03-01T10:00:00.000Z'), messages: [message] } }));
    expect((await s.get('old')).messages[0]!.stats).toEqual({ ...older, mode: { kind: 'ann' }, ops: null, contextCut: null });
  });

  it('refuses a mode with no valid T, saying where', async () => {
    const s = store();
    await s.create(chat('bad', '2026-03-01T10:00:00.000Z'));
    await writeFile(join(s.dir, 'bad.json'), JSON.stringify({ version: 1, chat: { ...chat('bad', 'x'), mode: { kind: 'snn', timesteps: 0 } } }));
    await expect(s.get('bad')).rejects.toThrow(/bad\.json is not a conversation this app can read \(chat\.mode\.timesteps: /);
  });
});

describe('chat export', () => {
  const done: StoredChat = {
    ...chat('x', '2026-03-01T10:05:00.000Z', 'Colours: a chat!'),
    systemPrompt: 'Be brief.',
    messages: [
      { id: 'u', role: 'user', text: 'Name a colour.', createdAt: '2026-03-01T10:00:00.000Z', stats: null },
      {
        id: 'a',
        role: 'assistant',
        text: 'Blue.',
        createdAt: '2026-03-01T10:00:01.000Z',
        stats: {
          modelId: 'abc123',
          modelName: 'tiny-llama',
          mode: { kind: 'ann' },
          tokens: 3,
          promptTokens: 30,
          cachedTokens: 0,
          timeToFirstTokenMs: 120,
          tokensPerSecond: 25,
          seconds: 0.2,
          seed: 7,
          stopReason: 'eos',
          error: null,
          ops: { ...spikingStats.ops!, positions: 33, macsPerToken: 10_000, acsPerToken: 0, picojoulesPerToken: 46_000, firingRates: [] },
          contextCut: null,
        },
      },
      { id: 'u2', role: 'user', text: 'Another.', createdAt: '2026-03-01T10:01:00.000Z', stats: null },
      { id: 'a2', role: 'assistant', text: 'Red, green', createdAt: '2026-03-01T10:01:01.000Z', stats: spikingStats },
    ],
  };

  it('writes Markdown people can read', () => {
    expect(chatMarkdown(done)).toBe(
      [
        '# Colours: a chat!',
        '',
        '- Model: tiny-llama',
        '- Started: 2026-03-01T10:00:00.000Z',
        '',
        '## System prompt',
        '',
        'Be brief.',
        '',
        '## User',
        '',
        'Name a colour.',
        '',
        '## Assistant (tiny-llama)',
        '',
        'Blue.',
        '',
        '*3 tokens, 25.0 tokens/s, first token after 0.12 s, the model ended its reply; 10K MACs per token; 0.046 µJ per token*',
        '',
        '## User',
        '',
        'Another.',
        '',
        '## Assistant (tiny-llama, spiking, T = 4)',
        '',
        'Red, green',
        '',
        '*5 tokens, 10.0 tokens/s, first token after 0.30 s, reached the most tokens allowed; firing rate 20.0%; ' +
          "30K MACs + 2K ACs per token; 0.14 µJ per token, 204% more than the original's; " +
          'The 2 oldest messages were left out: the model reads only the latest part of a long conversation.*',
        '',
        '## How the operations were counted',
        '',
        counted,
        '',
      ].join('\n'),
    );
    expect(exportChat(done, 'markdown')).toMatchObject({ fileName: 'Colours-a-chat.md', mimeType: 'text/markdown' });
  });

  it('writes JSON as the saved file has it', () => {
    const file = exportChat(done, 'json');
    expect(file.fileName).toBe('Colours-a-chat.json');
    expect(JSON.parse(file.text)).toEqual({ version: 1, chat: done });
    expect(exportChat({ ...done, title: '' }, 'json').fileName).toBe('conversation.json');
  });
});
