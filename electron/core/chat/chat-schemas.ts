// Runtime checks of the chat requests' parameters (merged into the core's table of schemas).
import { z } from 'zod';
import type { MethodName } from '../../api/contract.js';
import { MAX_TIMESTEPS } from '../../shared/chat-modes.js';
import { chatSamplingSchema } from './sampling.js';

export type ChatMethodName = Extract<MethodName, `chats.${string}`>;

export const MAX_MESSAGE_CHARS = 200_000;
export const MAX_SYSTEM_PROMPT_CHARS = 20_000;
export const MAX_TITLE_CHARS = 120;

export const chatModeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('ann') }).strict(),
  z.object({ kind: z.literal('snn'), timesteps: z.number().int().min(1).max(MAX_TIMESTEPS) }).strict(),
]);
const id = z.string().min(1).max(200);
const byId = z.object({ id }).strict();
const settings = {
  modelId: id,
  mode: chatModeSchema,
  systemPrompt: z.string().max(MAX_SYSTEM_PROMPT_CHARS),
  sampling: chatSamplingSchema,
};

export const chatParamSchemas: { [M in ChatMethodName]: z.ZodType } = {
  'chats.list': z.object({}).strict(),
  'chats.get': byId,
  'chats.create': z
    .object({
      ...settings,
      title: z.string().max(MAX_TITLE_CHARS).optional(),
      mode: settings.mode.optional(),
      systemPrompt: settings.systemPrompt.optional(),
      sampling: settings.sampling.optional(),
    })
    .strict(),
  'chats.update': z
    .object({
      id,
      title: z.string().max(MAX_TITLE_CHARS).optional(),
      modelId: settings.modelId.optional(),
      mode: settings.mode.optional(),
      systemPrompt: settings.systemPrompt.optional(),
      sampling: settings.sampling.optional(),
    })
    .strict(),
  'chats.delete': byId,
  'chats.export': z.object({ id, format: z.enum(['markdown', 'json']) }).strict(),
  'chats.send': z.object({ id, text: z.string().max(MAX_MESSAGE_CHARS) }).strict(),
  'chats.regenerate': byId,
  'chats.continue': byId,
  'chats.stop': byId,
};
