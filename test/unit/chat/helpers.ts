// Tiny chat models for the chat tests: the tiny LLaMA (rotary positions, so its context can be made
// longer without new weights) with the byte tokenizer, optionally with a chat template.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tinyModelContents, writeTinyFolder } from '../../helpers/tiny-models.js';

/** A ChatML template as Qwen and many others ship it. */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}" +
  "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export interface ChatModelOptions {
  contextLength?: number;
  /** tokenizer_config.json's chat_template: a string, or a list of named templates. */
  chatTemplate?: unknown;
  seed?: number;
}

export async function writeChatModel(dir: string, { contextLength = 512, chatTemplate, seed }: ChatModelOptions = {}): Promise<string> {
  const contents = tinyModelContents('llama', { seed });
  contents.config.max_position_embeddings = contextLength;
  await writeTinyFolder(dir, contents);
  if (chatTemplate !== undefined) {
    const file = join(dir, 'tokenizer_config.json');
    const config = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...config, chat_template: chatTemplate }));
  }
  return dir;
}
