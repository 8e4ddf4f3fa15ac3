// A seeded fuzzer over every parser of a file the user (or a downloaded model) hands the app:
// safetensors headers, config.json, tokenizer.json, spiking_config.json and spiking.safetensors, chat
// histories, presets, JSONL training data and multiple-choice task files. Each case mutates a valid
// file (byte flips, truncation, inserted bytes; in JSON: huge numbers, wrong types, deep nesting,
// missing keys) and must be accepted, or refused with an Error that carries a message, not a
// TypeError or ReferenceError (a parser that trips over the input) and not a hang. Deterministic:
// the same seed gives the same files; a failure names its parser and case number.
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatStore, type StoredChat } from '../../../electron/core/chat/chat-store.js';
import { DEFAULT_CHAT_SAMPLING } from '../../../electron/core/chat/sampling.js';
import { loadTokenDataset } from '../../../electron/core/data/index.js';
import { readChoiceItems } from '../../../electron/core/eval/multiple-choice.js';
import { openModelFolder } from '../../../electron/core/model/folder.js';
import { readSafetensorsHeader } from '../../../electron/core/model/safetensors.js';
import { PresetStore } from '../../../electron/core/presets/presets.js';
import { mulberry32 } from '../../../electron/core/random.js';
import { readSpikingConfig, SPIKING_CONFIG_FILE, SPIKING_WEIGHTS_FILE } from '../../../electron/core/spiking/spiking-config.js';
import { readSpikingWeights } from '../../../electron/core/spiking/spiking-weights.js';
import { tempDir, writeTinyModel } from '../../helpers/tiny-models.js';
import { writeConvertedChatModel } from '../chat/helpers.js';

const SEED = 0x5eed;
/** A hang guard, far above what any case takes; not a speed target. */
const CASE_LIMIT_MS = 3000;

type Rand = () => number;
const pick = <T>(rand: Rand, items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
const int = (rand: Rand, n: number) => Math.floor(rand() * n);

const DEEP = '"\u0000deep\u0000"';
const HOSTILE: unknown[] = [
  1e9,
  1e308,
  -1,
  0,
  0.5,
  2 ** 53 + 2,
  -1e308,
  '',
  'x'.repeat(5000),
  '1',
  null,
  true,
  false,
  [],
  {},
  [1, 'a', null],
  { a: { b: {} } },
  DEEP,
];

/** A copy of `value` with one node, picked at random, replaced by a hostile value or removed. */
function mutateValue(value: unknown, rand: Rand): unknown {
  const nodes: Array<{ parent: Record<string, unknown> | unknown[]; key: string | number }> = [];
  const copy = JSON.parse(JSON.stringify(value)) as unknown;
  const walk = (node: unknown, depth: number) => {
    if (depth > 12 || typeof node !== 'object' || node === null) return;
    const entries = Array.isArray(node) ? node.slice(0, 50).map((v, i) => [i, v] as const) : Object.entries(node).slice(0, 200);
    for (const [key, child] of entries) {
      nodes.push({ parent: node as Record<string, unknown>, key });
      walk(child, depth + 1);
    }
  };
  walk(copy, 0);
  if (nodes.length === 0 || rand() < 0.05) return pick(rand, HOSTILE);
  const { parent, key } = pick(rand, nodes);
  if (!Array.isArray(parent) && rand() < 0.15) delete parent[key as string];
  else (parent as Record<string | number, unknown>)[key] = pick(rand, HOSTILE);
  return copy;
}

/** JSON text of a mutated value; the deep-nesting marker becomes 4,000 nested arrays. */
function mutatedJsonText(value: unknown, rand: Rand): string {
  let mutated = mutateValue(value, rand);
  for (let extra = int(rand, 3); extra > 0; extra--) mutated = mutateValue(mutated, rand);
  return JSON.stringify(mutated).replaceAll(DEEP, '['.repeat(4000) + ']'.repeat(4000));
}

function mutateBytes(bytes: Buffer, rand: Rand): Buffer {
  const out = Buffer.from(bytes);
  switch (int(rand, 4)) {
    case 0: // flip a few bytes
      for (let n = 1 + int(rand, 8); n > 0 && out.length > 0; n--) out[int(rand, out.length)]! ^= 1 << int(rand, 8);
      return out;
    case 1: // truncate
      return out.subarray(0, int(rand, out.length));
    case 2: {
      // insert random bytes
      const at = int(rand, out.length + 1);
      const junk = Buffer.from(Array.from({ length: 1 + int(rand, 16) }, () => int(rand, 256)));
      return Buffer.concat([out.subarray(0, at), junk, out.subarray(at)]);
    }
    default: {
      // overwrite a slice with a byte that matters to parsers
      const at = int(rand, Math.max(1, out.length));
      out.fill(pick(rand, [0x00, 0xff, 0x22, 0x7b, 0x5b, 0x39, 0x0a]), at, Math.min(out.length, at + 1 + int(rand, 8)));
      return out;
    }
  }
}

/** A JSON file mutated either as JSON (mostly) or as bytes. */
function mutateJsonFile(text: string, rand: Rand): Buffer {
  return rand() < 0.7 ? Buffer.from(mutatedJsonText(JSON.parse(text), rand)) : mutateBytes(Buffer.from(text), rand);
}

/** A safetensors file with its JSON header mutated (length prefix rewritten), or its bytes. */
function mutateSafetensors(bytes: Buffer, rand: Rand): Buffer {
  if (rand() < 0.4) return mutateBytes(bytes, rand);
  const length = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')) as unknown;
  const text = Buffer.from(mutatedJsonText(header, rand));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(text.length));
  return Buffer.concat([prefix, text, bytes.subarray(8 + length)]);
}

interface Finding {
  parser: string;
  index: number;
  problem: string;
}

/** Runs `cases` mutated inputs through one parser; returns what went wrong (nothing, when all is well). */
async function fuzz(parser: string, cases: number, seed: number, runCase: (rand: Rand) => Promise<unknown>): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (let index = 0; index < cases; index++) {
    const rand = mulberry32(seed * 7919 + index);
    const started = performance.now();
    try {
      await runCase(rand);
    } catch (err) {
      if (!(err instanceof Error) || err.message.trim() === '') findings.push({ parser, index, problem: `threw ${String(err)} without a message` });
      else if (err instanceof TypeError || err instanceof ReferenceError) findings.push({ parser, index, problem: `${err.name}: ${err.message}` });
    }
    const ms = performance.now() - started;
    if (ms > CASE_LIMIT_MS) findings.push({ parser, index, problem: `took ${Math.round(ms)} ms` });
  }
  return findings;
}

describe('parser fuzzer', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let model: string;
  let converted: string;
  beforeAll(async () => {
    ({ path: root, cleanup } = await tempDir());
    model = join(root, 'model');
    await writeTinyModel(model, 'gpt2');
    converted = await writeConvertedChatModel(join(root, 'converted'), { contextLength: 64 });
  });
  afterAll(() => cleanup());

  it('safetensors headers', async () => {
    const valid = await readFile(join(model, 'model.safetensors'));
    const file = join(root, 'fuzzed.safetensors');
    const findings = await fuzz('safetensors', 600, SEED + 1, async (rand) => {
      await writeFile(file, mutateSafetensors(valid, rand));
      await readSafetensorsHeader(file);
    });
    expect(findings).toEqual([]);
  });

  it('config.json and tokenizer.json of a model folder', async () => {
    const dir = join(root, 'folder');
    await mkdir(dir);
    for (const name of ['model.safetensors', 'tokenizer_config.json']) await copyFile(join(model, name), join(dir, name));
    const config = await readFile(join(model, 'config.json'), 'utf8');
    const tokenizer = await readFile(join(model, 'tokenizer.json'), 'utf8');
    const findings = await fuzz('model folder', 500, SEED + 2, async (rand) => {
      const mutateTokenizer = rand() < 0.4;
      await writeFile(join(dir, 'config.json'), mutateTokenizer ? config : mutateJsonFile(config, rand));
      await writeFile(join(dir, 'tokenizer.json'), mutateTokenizer ? mutateJsonFile(tokenizer, rand) : tokenizer);
      await openModelFolder(dir);
    });
    expect(findings).toEqual([]);
  });

  it('spiking_config.json and spiking.safetensors', async () => {
    const dir = join(root, 'spiking');
    await mkdir(dir);
    const config = await readFile(join(converted, SPIKING_CONFIG_FILE), 'utf8');
    const weights = await readFile(join(converted, SPIKING_WEIGHTS_FILE));
    const { numLayers, ffnSize } = (await openModelFolder(converted)).spec;
    const findings = await fuzz('spiking files', 500, SEED + 3, async (rand) => {
      if (rand() < 0.5) {
        await writeFile(join(dir, SPIKING_CONFIG_FILE), mutateJsonFile(config, rand));
        await readSpikingConfig(dir);
      } else {
        await writeFile(join(dir, SPIKING_WEIGHTS_FILE), mutateSafetensors(weights, rand));
        await readSpikingWeights(dir, numLayers, ffnSize, true);
      }
    });
    expect(findings).toEqual([]);
  });

  it('chat histories', async () => {
    const store = new ChatStore(join(root, 'chats-ws'));
    const message = (role: 'user' | 'assistant', text: string) => ({ id: `m-${role}`, role, text, createdAt: '2026-03-01T10:00:00.000Z', stats: null });
    const chat: StoredChat = {
      id: 'c1',
      title: 'Hello',
      createdAt: '2026-03-01T10:00:00.000Z',
      updatedAt: '2026-03-01T10:00:00.000Z',
      modelId: 'abc123',
      modelName: 'tiny',
      mode: { kind: 'snn', timesteps: 4 },
      systemPrompt: 'Be brief.',
      sampling: DEFAULT_CHAT_SAMPLING,
      messages: [message('user', 'Hi'), message('assistant', 'Hello!')],
    };
    await store.create(chat);
    const file = join(store.dir, 'c1.json');
    const valid = await readFile(file, 'utf8');
    const findings = await fuzz('chat history', 500, SEED + 4, async (rand) => {
      await writeFile(file, mutateJsonFile(valid, rand));
      await store.get('c1');
    });
    expect(findings).toEqual([]);
  });

  it('presets', async () => {
    const workspace = join(root, 'presets-ws');
    await new PresetStore(workspace).save('train', 'Quick', { steps: 10, lr: 0.001, data: 'corpus.txt', nested: { a: [1, 2] } });
    const file = join(workspace, 'presets', 'train.json');
    const valid = await readFile(file, 'utf8');
    const findings = await fuzz('presets', 400, SEED + 5, async (rand) => {
      await writeFile(file, mutateJsonFile(valid, rand));
      await new PresetStore(workspace).list('train');
    });
    expect(findings).toEqual([]);
  });

  it('JSONL training data', async () => {
    const file = join(root, 'data.jsonl');
    const lines = [{ text: 'The first document.' }, { prompt: 'Q: two and two?', completion: ' four' }, { text: 'Another one, with "quotes" and é.' }];
    const tokenizer = { encode: (text: string) => [...Buffer.from(text)], eosId: 0 };
    const findings = await fuzz('jsonl', 400, SEED + 6, async (rand) => {
      const text = lines.map((line) => (rand() < 0.5 ? mutatedJsonText(line, rand) : JSON.stringify(line))).join('\n');
      await writeFile(file, rand() < 0.3 ? mutateBytes(Buffer.from(text), rand) : text);
      await loadTokenDataset({ path: file, tokenizer, blockSize: 8, validationFraction: 0, seed: 1, chunkBytes: 4096 });
    });
    expect(findings).toEqual([]);
  });

  it('multiple-choice task files', async () => {
    const file = join(root, 'task.jsonl');
    const items = [
      { context: 'The sky is', choices: [' blue', ' loud'], label: 0 },
      { ctx: 'He opened the door', endings: ['and left.', 'and sang.'], label: 1 },
      { goal: 'Boil water', sol1: 'Use a pot', sol2: 'Use a sieve', label: 0 },
      {
        question: {
          stem: 'Two and two?',
          choices: [
            { text: 'four', label: 'A' },
            { text: 'five', label: 'B' },
          ],
        },
        answerKey: 'A',
      },
      { text: 'Great film', label_words: ['good', 'bad'], label: 0, prompt: '\nSentiment:' },
    ];
    const findings = await fuzz('multiple choice', 400, SEED + 7, async (rand) => {
      const text = items.map((item) => (rand() < 0.5 ? mutatedJsonText(item, rand) : JSON.stringify(item))).join('\n');
      await writeFile(file, rand() < 0.3 ? mutateBytes(Buffer.from(text), rand) : text);
      await readChoiceItems(file);
    });
    expect(findings).toEqual([]);
  });
});
