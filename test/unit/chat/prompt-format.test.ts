import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderPromptFormat } from '../../../electron/core/chat/chat-template.js';
import { plainFormat, templateFormat, type PromptFormat } from '../../../electron/core/chat/prompt-format.js';
import { renderTemplate } from '../../../electron/core/chat/template-sandbox.js';
import { byteTokenizerConfig, byteTokenizerJson } from '../../../electron/core/model/gpt2-tokenizer.js';
import { openModelFolder } from '../../../electron/core/model/folder.js';
import { TextTokenizer, loadTokenizer } from '../../../electron/core/model/tokenizer.js';
import { tempDir } from '../../helpers/tiny-models.js';
import { CHATML_TEMPLATE, writeChatModel } from './helpers.js';

/** The byte tokenizer plus ChatML's two special tokens, as a Qwen tokenizer has them. */
function chatmlTokenizer(): TextTokenizer {
  const json = byteTokenizerJson();
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  json.added_tokens.push(special(257, '<|im_start|>'), special(258, '<|im_end|>'));
  return new TextTokenizer({ tokenizerJson: json, tokenizerConfig: { ...byteTokenizerConfig(64), eos_token: '<|im_end|>' } });
}

const conversation = [
  { role: 'user' as const, text: 'Hi there' },
  { role: 'assistant' as const, text: 'Hello! How can I help?' },
  { role: 'user' as const, text: 'Name a colour.' },
];

describe('plain transcript format', () => {
  it('writes System/User/Assistant turns and leaves the assistant to speak', async () => {
    expect(await plainFormat.render('Be brief.', conversation, false)).toBe(
      'System: Be brief.\n\nUser: Hi there\n\nAssistant: Hello! How can I help?\n\nUser: Name a colour.\n\nAssistant:',
    );
    expect(await plainFormat.render('  ', conversation.slice(0, 1), false)).toBe('User: Hi there\n\nAssistant:');
  });

  it("leaves an unfinished reply open to continue, and stops before the user's next turn", async () => {
    expect(await plainFormat.render('', conversation.slice(0, 2), true)).toBe('User: Hi there\n\nAssistant: Hello! How can I help?');
    expect(plainFormat.stopStrings).toEqual(['\nUser:']);
    expect(plainFormat.addSpecialTokens).toBe(true);
  });
});

describe('chat template format', () => {
  const tokenizer = chatmlTokenizer();
  let chatml: PromptFormat;
  beforeAll(async () => {
    chatml = await templateFormat(CHATML_TEMPLATE, { bosToken: '', eosToken: '<|im_end|>' }, tokenizer);
  });

  it('renders ChatML with the system prompt and the generation prompt', async () => {
    expect(chatml.kind).toBe('template');
    expect(await chatml.render('Be brief.', conversation, false)).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n' +
        '<|im_start|>user\nHi there<|im_end|>\n' +
        '<|im_start|>assistant\nHello! How can I help?<|im_end|>\n' +
        '<|im_start|>user\nName a colour.<|im_end|>\n' +
        '<|im_start|>assistant\n',
    );
    // Without a system prompt the template's own default applies.
    expect(await chatml.render('', conversation.slice(0, 1), false)).toBe(
      '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  it('continues the last reply by leaving its turn open', async () => {
    expect(await chatml.render('', conversation.slice(0, 2), true)).toBe(
      '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\nHello! How can I help?',
    );
  });

  it("ends a reply at the template's end-of-turn token, and encodes without adding special tokens", async () => {
    expect(chatml.stopStrings).toEqual(['<|im_end|>']);
    expect(chatml.stopIds).toEqual([258]);
    expect(chatml.addSpecialTokens).toBe(false);
    const ids = tokenizer.encode(await chatml.render('', conversation.slice(0, 1), false), { addSpecialTokens: chatml.addSpecialTokens });
    expect(ids[0]).toBe(257);
    expect(ids.filter((id) => id === 258)).toHaveLength(2);
  });

  it('passes bos_token and eos_token to the template (a LLaMA-2 style template)', async () => {
    const llama2 =
      "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}" +
      "{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'] + ' ' + eos_token }}{% endif %}{% endfor %}";
    const format = await templateFormat(llama2, { bosToken: '<s>', eosToken: '</s>' }, tokenizer);
    expect(await format.render('', conversation, false)).toBe('<s>[INST] Hi there [/INST] Hello! How can I help? </s>[INST] Name a colour. [/INST]');
    expect(format.stopStrings).toEqual(['</s>']);
    expect(format.stopIds).toEqual([]);
  });

  it('folds the system prompt into the first message when the template refuses a system role', async () => {
    const strict =
      "{% for message in messages %}{% if message['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}" +
      "<start_of_turn>{{ message['role'] }}\n{{ message['content'] }}<end_of_turn>\n{% endfor %}{% if add_generation_prompt %}<start_of_turn>assistant\n{% endif %}";
    const format = await templateFormat(strict, { bosToken: '', eosToken: '' }, tokenizer);
    expect(await format.render('Be brief.', conversation.slice(0, 1), false)).toBe(
      '<start_of_turn>user\nBe brief.\n\nHi there<end_of_turn>\n<start_of_turn>assistant\n',
    );
  });

  it('refuses a template it cannot parse', async () => {
    await expect(templateFormat('{% for m in messages %}', { bosToken: '', eosToken: '' }, tokenizer)).rejects.toThrow();
  });

  it('stops a template that loops for ever, and one that writes too much, with a message', async () => {
    const loops = '{% for i in range(100000000) %}{% for j in range(100000000) %}{{ i }}{% endfor %}{% endfor %}';
    const started = Date.now();
    await expect(templateFormat(loops, { bosToken: '', eosToken: '' }, tokenizer)).rejects.toThrow(
      /the chat template (did not finish within 2 s|needed more than 256 MB to render)/,
    );
    expect(Date.now() - started).toBeLessThan(20_000); // a hang guard, not a speed target
    // The next render gets a fresh worker.
    expect((await templateFormat(CHATML_TEMPLATE, { bosToken: '', eosToken: '<|im_end|>' }, tokenizer)).kind).toBe('template');
    await expect(renderTemplate('{% for i in range(50) %}x{% endfor %}', {}, { timeMs: 2000, maxChars: 10 })).rejects.toThrow(
      /it wrote 50 characters, more than the 10 a prompt can be/,
    );
  });
});

describe('a model folder’s prompt format', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ path: root, cleanup } = await tempDir()));
  afterAll(() => cleanup());

  async function formatOf(dir: string) {
    const folder = await openModelFolder(dir);
    return folderPromptFormat(folder, await loadTokenizer(folder.tokenizerFiles));
  }

  it('is plain without a chat template, and the template when tokenizer_config.json has one', async () => {
    expect(await formatOf(await writeChatModel(join(root, 'plain')))).toEqual({ format: plainFormat, note: null });
    const { format, note } = await formatOf(await writeChatModel(join(root, 'chatml'), { chatTemplate: CHATML_TEMPLATE }));
    expect(format.kind).toBe('template');
    expect(note).toBeNull();
  });

  it('reads a list of named templates and chat_template.jinja', async () => {
    const listed = await writeChatModel(join(root, 'listed'), {
      chatTemplate: [
        { name: 'tool_use', template: 'x' },
        { name: 'default', template: CHATML_TEMPLATE },
      ],
    });
    expect(await (await formatOf(listed)).format.render('', conversation.slice(0, 1), false)).toContain('<|im_start|>assistant\n');
    const jinja = await writeChatModel(join(root, 'jinja'));
    await writeFile(join(jinja, 'chat_template.jinja'), CHATML_TEMPLATE);
    expect((await formatOf(jinja)).format.kind).toBe('template');
  });

  it('falls back to the plain format, saying why, when the template is broken', async () => {
    const { format, note } = await formatOf(await writeChatModel(join(root, 'broken'), { chatTemplate: '{% if %}' }));
    expect(format).toBe(plainFormat);
    expect(note).toMatch(/^Its chat format could not be used \(.+\), so it reads the conversation as plain text instead\.$/);
  });
});
