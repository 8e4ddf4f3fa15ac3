// Finds a model folder's chat template (chat_template.jinja, or "chat_template" in
// tokenizer_config.json) and turns it into the folder's prompt format.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { OpenedModelFolder } from '../model/folder.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import { plainFormat, templateFormat, type PromptFormat } from './prompt-format.js';

export interface FolderFormat {
  format: PromptFormat;
  /** Why a template the folder has is not used, in words; null when nothing needs saying. */
  note: string | null;
}

export async function folderPromptFormat(folder: OpenedModelFolder, tokenizer: TextTokenizer): Promise<FolderFormat> {
  const config = await readTokenizerConfig(folder.tokenizerFiles.tokenizerConfig);
  const source = (await readFile(join(folder.dir, 'chat_template.jinja'), 'utf8').catch(() => null)) ?? templateOf(config);
  if (source === null) return { format: plainFormat, note: null };
  try {
    return { format: await templateFormat(source, { bosToken: special(config.bos_token), eosToken: special(config.eos_token) }, tokenizer), note: null };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return { format: plainFormat, note: `Its chat format could not be used (${reason}), so it reads the conversation as plain text instead.` };
  }
}

async function readTokenizerConfig(file: string | null): Promise<Record<string, unknown>> {
  if (!file) return {};
  // The folder was already checked when the model loaded; a config that cannot be read has no template.
  const parsed = JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as unknown;
  return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
}

/** "chat_template" is a string, or a list of named templates of which "default" is the chat one. */
function templateOf(config: Record<string, unknown>): string | null {
  const value = config.chat_template;
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) return null;
  const named = value.filter((t): t is { name: string; template: string } => typeof t?.name === 'string' && typeof t?.template === 'string');
  return (named.find((t) => t.name === 'default') ?? named[0])?.template ?? null;
}

/** A special token as tokenizer_config.json writes it: a string or {"content": ...}. */
function special(value: unknown): string {
  if (typeof value === 'string') return value;
  const content = (value as { content?: unknown } | null)?.content;
  return typeof content === 'string' ? content : '';
}
