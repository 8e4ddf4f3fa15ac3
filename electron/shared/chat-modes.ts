// The modes a model chats in, the same for the core and the UI (which imports this file too, so it
// imports nothing but types): a converted model runs as the spiking model or as the ANN, any other
// model as the ANN only.
import type { ChatMode, ModelEntry, ReplyStats } from '../api/contract.js';

/** The most timesteps per token the engine runs: every schema's largest T (jobs, spiking_config.json, chat, estimates). */
export const MAX_TIMESTEPS = 1024;

/** A model's mode until the user picks one: the spiking model at the folder's T when it is converted. */
export function defaultMode(model: ModelEntry): ChatMode {
  return model.spiking ? { kind: 'snn', timesteps: model.spiking.timesteps } : { kind: 'ann' };
}

/** "spiking, T = 8" or "ANN" */
export function modeWords(mode: ChatMode): string {
  return mode.kind === 'snn' ? `spiking, T = ${mode.timesteps}` : 'ANN';
}

/** How a model is named in a chat: a converted one with its mode, "gpt2 (spiking, T = 8)"; any other by its name. */
export function modelInMode(model: Pick<ModelEntry, 'name' | 'spiking'>, mode: ChatMode): string {
  return model.spiking ? `${model.name} (${modeWords(mode)})` : model.name;
}

/** Which model wrote a reply: "gpt2, spiking, T = 8" for the spiking model, else its name. */
export function replyModelWords(stats: Pick<ReplyStats, 'modelName' | 'mode'>): string {
  return stats.mode.kind === 'snn' ? `${stats.modelName}, ${modeWords(stats.mode)}` : stats.modelName;
}
