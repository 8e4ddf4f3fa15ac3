// Tiny chat models for the chat tests: the tiny LLaMA (rotary positions, so its context can be made
// longer without new weights) with the byte tokenizer, optionally with a chat template, and the same
// converted into a spiking model (spiking_config.json and spiking.safetensors, calibrated per layer).
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSafetensors } from '../../../electron/core/model/safetensors.js';
import { SPIKING_WEIGHTS_FILE, writeSpikingConfig } from '../../../electron/core/spiking/spiking-config.js';
import { spikingTensors } from '../../../electron/core/spiking/spiking-weights.js';
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

/** The tiny chat model converted: QCFS with L = 8 and T timesteps, one threshold and v0 per layer. */
export async function writeConvertedChatModel(dir: string, { timesteps = 4, ...options }: ChatModelOptions & { timesteps?: number } = {}): Promise<string> {
  await writeChatModel(dir, options);
  const lambdas = Float32Array.of(0.3, 0.25);
  const neurons = [...lambdas].map((lambda) => ({ threshold: Float32Array.of(lambda), v0: Float32Array.of(lambda / 2), shape: [1] }));
  await writeSpikingConfig(dir, { L: 8, T: timesteps, neuron: 'if-soft-reset', signed: true, site: 'ffn_act', calibration: 'layer' });
  await writeSafetensors(join(dir, SPIKING_WEIGHTS_FILE), spikingTensors({ lambdas, neurons }));
  return dir;
}
