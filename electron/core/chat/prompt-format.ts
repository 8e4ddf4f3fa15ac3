// How a conversation becomes the text a model continues. A model that ships a chat template
// (tokenizer_config.json "chat_template") is prompted exactly as it was trained, through that Jinja
// template; any other model continues a plain transcript:
//
//   System: <system prompt>
//
//   User: <message>
//
//   Assistant: <reply>
//
//   User: <message>
//
//   Assistant:
//
// and stops before it starts writing the user's next turn ("\nUser:").
import type { TextTokenizer } from '../model/tokenizer.js';
import { renderTemplate } from './template-sandbox.js';

export interface PromptMessage {
  role: 'user' | 'assistant';
  text: string;
}

export interface PromptFormat {
  /** 'template' when the model's own chat template is used, 'plain' for the transcript above. */
  kind: 'template' | 'plain';
  /**
   * The text to continue. With `continueLast` the last message (an unfinished reply) is left open
   * so the model extends it; otherwise the text ends where the assistant's next reply begins.
   */
  render(system: string, messages: readonly PromptMessage[], continueLast: boolean): Promise<string>;
  /** Whether encoding adds the tokenizer's special tokens (a template writes its own). */
  addSpecialTokens: boolean;
  /** Text that ends a reply, never shown. */
  stopStrings: string[];
  /** Token ids that end a reply besides the tokenizer's end-of-sequence ids. */
  stopIds: number[];
}

export const plainFormat: PromptFormat = {
  kind: 'plain',
  async render(system, messages, continueLast) {
    const turns = system.trim() ? [`System: ${system.trim()}`] : [];
    for (const m of messages) turns.push(`${m.role === 'user' ? 'User' : 'Assistant'}: ${m.text}`);
    if (!continueLast) turns.push('Assistant:');
    return turns.join('\n\n');
  },
  addSpecialTokens: true,
  stopStrings: ['\nUser:'],
  stopIds: [],
};

export interface TemplateTokens {
  bosToken: string;
  eosToken: string;
}

type TemplateMessage = { role: 'system' | 'user' | 'assistant'; content: string };

/**
 * A format from a Hugging Face chat template, rendered off the main thread under limits
 * (template-sandbox.ts). Rejects when the template cannot be parsed or cannot render a simple
 * conversation, so the caller can fall back to the plain format.
 */
export async function templateFormat(source: string, tokens: TemplateTokens, tokenizer: TextTokenizer): Promise<PromptFormat> {
  const apply = (messages: TemplateMessage[], addGenerationPrompt: boolean) =>
    renderTemplate(source, { messages, add_generation_prompt: addGenerationPrompt, bos_token: tokens.bosToken, eos_token: tokens.eosToken });

  /** The messages with the system prompt first, or folded into the first user message when the template refuses a system role. */
  const withSystem = async (system: string, messages: readonly PromptMessage[], addGenerationPrompt: boolean): Promise<string> => {
    const turns: TemplateMessage[] = messages.map((m) => ({ role: m.role, content: m.text }));
    if (!system.trim()) return apply(turns, addGenerationPrompt);
    try {
      return await apply([{ role: 'system', content: system.trim() }, ...turns], addGenerationPrompt);
    } catch {
      const [first, ...rest] = turns;
      const merged = first ? [{ ...first, content: `${system.trim()}\n\n${first.content}` }, ...rest] : [{ role: 'user' as const, content: system.trim() }];
      return apply(merged, addGenerationPrompt);
    }
  };

  const probe = 'fas-probe-reply';
  const probed = await apply(
    [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: probe },
    ],
    false,
  );
  const at = probed.lastIndexOf(probe);
  if (at === -1) throw new Error('the template does not write the replies');
  const endOfTurn = firstWord(probed.slice(at + probe.length));
  const endId = tokenizer.tokenId(endOfTurn);
  return {
    kind: 'template',
    async render(system, messages, continueLast) {
      if (!continueLast) return withSystem(system, messages, true);
      // As transformers' continue_final_message: render the whole conversation, then cut right after
      // the last reply's text, dropping whatever closes the turn.
      const text = await withSystem(system, messages, false);
      const last = messages.at(-1)?.text ?? '';
      for (const needle of [last, last.trim()]) {
        const at = text.lastIndexOf(needle);
        if (needle && at !== -1) return text.slice(0, at + needle.length);
      }
      throw new Error("This model's chat template does not keep the reply's text as it is, so the reply cannot be continued.");
    },
    addSpecialTokens: false,
    stopStrings: endOfTurn ? [endOfTurn] : [],
    stopIds: endId === null ? [] : [endId],
  };
}

/** What a template writes right after a reply's text closes the turn, e.g. "<|im_end|>\n" -> "<|im_end|>"; '' when nothing. */
function firstWord(text: string): string {
  return text.trim().split(/\s/)[0] ?? '';
}
