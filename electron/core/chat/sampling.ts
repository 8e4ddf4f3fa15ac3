// Sampling settings of a chat: their defaults, their limits, and the seed a reply actually uses.
import { randomInt } from 'node:crypto';
import { z } from 'zod';
import type { ChatSampling } from '../../api/contract.js';

export const DEFAULT_CHAT_SAMPLING: ChatSampling = {
  temperature: 0.7,
  topK: 40,
  topP: 0.95,
  repetitionPenalty: 1.1,
  maxTokens: 512,
  seed: null,
};

const MAX_SEED = 2 ** 32 - 1;

export const chatSamplingSchema = z
  .object({
    temperature: z.number().min(0).max(5),
    topK: z.number().int().min(0).max(100_000),
    topP: z.number().gt(0).max(1),
    repetitionPenalty: z.number().min(0.5).max(5),
    maxTokens: z.number().int().min(1).max(100_000),
    seed: z.number().int().min(0).max(MAX_SEED).nullable(),
  })
  .strict();

/** The seed of one reply: the chosen one, or a fresh random one (saved with the reply so it can be repeated). */
export function replySeed(sampling: ChatSampling): number {
  return sampling.seed ?? randomInt(0, MAX_SEED);
}
