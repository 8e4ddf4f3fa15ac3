// `fas chat <model-dir>`: a conversation in the terminal, with the same prompt formats, sampling and
// reply stats as the app. --snn chats with a converted model's spiking version and follows each reply
// with its firing rate, operations and energy. Ctrl+C stops the reply being written; at the prompt it
// quits, as /exit does.
import { writeFileAtomic } from '../../core/storage/json-file.js';
import { basename, extname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { ChatMessage, ChatMode, ChatSampling } from '../../api/contract.js';
import { exportChat, statsLine } from '../../core/chat/chat-export.js';
import { openChatModel, type ChatModel, type FittedPrompt } from '../../core/chat/chat-model.js';
import { MAX_TIMESTEPS } from '../../shared/chat-modes.js';
import { newMessage, titleFrom } from '../../core/chat/messages.js';
import { DEFAULT_CHAT_SAMPLING, chatSamplingSchema } from '../../core/chat/sampling.js';
import { writeReply } from '../../core/chat/write-reply.js';
import { readSpikingConfig } from '../../core/spiking/spiking-config.js';
import { nonNegativeNumber, positiveInt } from '../options.js';

interface ChatOptions {
  system: string;
  temperature: number;
  topK: number;
  topP: number;
  repetitionPenalty: number;
  maxTokens: number;
  seed?: number;
  stats?: boolean;
  snn?: boolean;
  T?: number;
}

const HELP = [
  'Type a message and press Enter. Commands:',
  '  /reset       start the conversation over (the system prompt stays)',
  '  /save FILE   write the conversation to FILE: Markdown, or JSON for a .json name',
  '  /exit        quit (so does Ctrl+C at the prompt; during a reply Ctrl+C stops it)',
].join('\n');

export function registerChatCommand(program: Command): void {
  const d = DEFAULT_CHAT_SAMPLING;
  program
    .command('chat <model-dir>')
    .description('Chat with a model in the terminal, the replies streaming as they are written')
    .option('--system <text>', 'system prompt: how the assistant should behave', '')
    .option('--temperature <x>', '0 = greedy (always the most likely token)', nonNegativeNumber, d.temperature)
    .option('--top-k <k>', 'sample among the k most likely tokens (0 = all)', (v) => Math.floor(nonNegativeNumber(v)), d.topK)
    .option('--top-p <p>', 'sample among the most likely tokens whose probabilities add up to p', nonNegativeNumber, d.topP)
    .option('--repetition-penalty <r>', '1 = off; above 1 discourages repeating tokens', nonNegativeNumber, d.repetitionPenalty)
    .option('--max-tokens <n>', 'most tokens per reply', positiveInt, d.maxTokens)
    .option('--seed <n>', 'random seed for every reply (default: a new one each time)', (v) => Math.floor(nonNegativeNumber(v)))
    .option('--stats', "print each reply's tokens, speed, ending, operations and energy to stderr")
    .option('--snn', "chat with a converted model's spiking version; prints each reply's stats")
    .option('--T <n>', "timesteps per token of the spiking model: more is closer to the original, slower (default: the folder's T; implies --snn)", positiveInt)
    .action(async (dir: string, o: ChatOptions) => {
      const sampling = checkSampling(o);
      const mode = await chatMode(dir, o);
      const model = await openChatModel(dir, mode);
      try {
        await converse(model, { name: basename(resolve(dir)), mode, system: o.system, sampling, stats: o.stats === true || mode.kind === 'snn' });
      } finally {
        model.dispose();
      }
    });
}

function checkSampling(o: ChatOptions): ChatSampling {
  const parsed = chatSamplingSchema.safeParse({
    temperature: o.temperature,
    topK: o.topK,
    topP: o.topP,
    repetitionPenalty: o.repetitionPenalty,
    maxTokens: o.maxTokens,
    seed: o.seed ?? null,
  });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new Error(`--${String(issue.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${issue.message}`);
}

/** The spiking model at --T (by default the folder's T) with --snn or --T; else the ANN. */
async function chatMode(dir: string, o: ChatOptions): Promise<ChatMode> {
  if (!o.snn && o.T === undefined) return { kind: 'ann' };
  if (o.T !== undefined && o.T > MAX_TIMESTEPS) throw new Error(`--T: must be at most ${MAX_TIMESTEPS}.`);
  const spiking = await readSpikingConfig(dir);
  if (!spiking)
    throw new Error(
      `${dir} is not a converted model (it has no spiking_config.json), so it has no spiking mode. Leave out --snn and --T to chat with it as it is.`,
    );
  return { kind: 'snn', timesteps: o.T ?? spiking.T };
}

interface Conversation {
  name: string;
  mode: ChatMode;
  system: string;
  sampling: ChatSampling;
  stats: boolean;
}

async function converse(model: ChatModel, c: Conversation): Promise<void> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: Boolean(process.stdin.isTTY && process.stdout.isTTY) });
  const startedAt = new Date().toISOString();
  let messages: ChatMessage[] = [];
  let replying: AbortController | null = null;
  const interrupt = () => {
    if (replying && !replying.signal.aborted) replying.abort();
    else rl.close();
  };
  // A terminal reports Ctrl+C to readline; a pipe gets the signal itself.
  rl.on('SIGINT', interrupt);
  process.on('SIGINT', interrupt);
  let closed = false;
  rl.on('close', () => (closed = true));

  async function reply(text: string): Promise<void> {
    const user = newMessage('user', text);
    let prompt: FittedPrompt;
    try {
      prompt = await model.prompt(c.system, [...messages, user], false, c.sampling.maxTokens);
    } catch (err) {
      console.error(err instanceof Error ? err.message : String(err));
      return;
    }
    messages.push(user);
    replying = new AbortController();
    const request = {
      prompt,
      sampling: c.sampling,
      origin: { modelId: c.name, modelName: c.name, mode: c.mode },
      message: newMessage('assistant', ''),
      continuing: false,
    };
    const done = await writeReply(model, request, (piece) => process.stdout.write(piece), replying.signal);
    replying = null;
    process.stdout.write('\n');
    messages.push(done);
    if (done.stats.error) console.error(done.stats.error);
    else if (done.stats.stopReason === 'aborted') console.error('[stopped]');
    if (c.stats) console.error(`[${statsLine(done.stats)}]`);
  }

  async function save(file: string): Promise<void> {
    if (!file) return console.error('Name the file: /save chat.md (or chat.json).');
    const now = new Date().toISOString();
    const chat = {
      id: 'terminal',
      title: titleFrom(messages),
      createdAt: startedAt,
      updatedAt: now,
      modelId: c.name,
      modelName: c.name,
      mode: c.mode,
      systemPrompt: c.system,
      sampling: c.sampling,
      messages,
    };
    const exported = exportChat(chat, extname(file).toLowerCase() === '.json' ? 'json' : 'markdown');
    try {
      await writeFileAtomic(file, exported.text);
      console.error(`Saved the conversation to ${resolve(file)}.`);
    } catch (err) {
      console.error(`The conversation could not be saved to ${file}: ${(err as Error).message}`);
    }
  }

  console.error(`Chatting with ${c.name} (${model.format.kind === 'template' ? 'its chat template' : 'plain transcript'}). /help lists the commands.`);
  if (c.mode.kind === 'snn') {
    console.error(
      `It runs as the spiking model, T = ${c.mode.timesteps} timesteps per token; after each reply come its firing rate, operations and energy against the ANN.`,
    );
  }
  if (model.formatNote) console.error(model.formatNote);
  rl.setPrompt('> ');
  rl.prompt();
  try {
    for await (const line of rl) {
      const text = line.trim();
      if (text === '/exit') break;
      if (text === '/help') console.error(HELP);
      else if (text === '/reset') {
        messages = [];
        console.error('Started over.');
      } else if (text === '/save' || text.startsWith('/save ')) await save(text.slice('/save'.length).trim());
      else if (text.startsWith('/')) console.error(`There is no command ${text.split(' ')[0]}. /help lists the commands.`);
      else if (text) await reply(text);
      if (closed) break;
      rl.prompt();
    }
  } finally {
    process.off('SIGINT', interrupt);
    rl.close();
  }
}
