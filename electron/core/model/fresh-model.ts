// `fas init`: a new randomly initialised model folder with a chosen tokenizer.
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gpt2TokenizerConfig, gpt2TokenizerJson } from './gpt2-tokenizer.js';
import { initConfig, initTensors, type InitOptions } from './init.js';
import { TextTokenizer, tokenizerVocabSize } from './tokenizer.js';
import { writeModelFolder } from './writer.js';

export interface TokenizerSource {
  tokenizerJson: unknown;
  tokenizerConfig: Record<string, unknown>;
}

/** "gpt2" (GPT-2's own vocabulary, bundled), a tokenizer.json file, or a model folder that has one. */
export async function readTokenizerSource(source: string): Promise<TokenizerSource> {
  if (source === 'gpt2') return { tokenizerJson: await gpt2TokenizerJson(), tokenizerConfig: gpt2TokenizerConfig() };
  const info = await stat(source).catch(() => null);
  if (!info) throw new Error(`Tokenizer "${source}" not found: give "gpt2", a tokenizer.json file, or a model folder.`);
  const file = info.isDirectory() ? join(source, 'tokenizer.json') : source;
  const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as unknown;
  const tokenizerJson = await readJson(file).catch(() => {
    throw new Error(`${file} is missing or is not JSON.`);
  });
  const tokenizerConfig = ((await readJson(join(dirname(file), 'tokenizer_config.json')).catch(() => null)) ?? {}) as Record<string, unknown>;
  return { tokenizerJson, tokenizerConfig };
}

export type FreshModelOptions = Omit<InitOptions, 'vocabSize' | 'bosTokenId' | 'eosTokenId'> & { seed: number };

/** Writes the folder (atomically) and returns its config. */
export async function createFreshModel(out: string, tokenizer: TokenizerSource, options: FreshModelOptions): Promise<Record<string, unknown>> {
  const text = new TextTokenizer({ tokenizerJson: tokenizer.tokenizerJson, tokenizerConfig: tokenizer.tokenizerConfig });
  const config = initConfig({
    ...options,
    vocabSize: tokenizerVocabSize(tokenizer.tokenizerJson),
    bosTokenId: text.bosId ?? text.eosId,
    eosTokenId: text.eosId,
  });
  await writeModelFolder(out, {
    config,
    tensors: initTensors(config, options.seed),
    tokenizerJson: tokenizer.tokenizerJson,
    tokenizerConfig: { ...tokenizer.tokenizerConfig, model_max_length: options.context },
  });
  return config;
}
