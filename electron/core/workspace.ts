import os from 'node:os';
import path from 'node:path';

/** The user's workspace (runs, models, chats): FAS_WORKSPACE, or ~/FAS Spiking LLM. */
export function defaultWorkspaceDir(): string {
  return process.env.FAS_WORKSPACE ?? path.join(os.homedir(), 'FAS Spiking LLM');
}
