// `fas chat`, driven through its stdin as a person would type (needs `npm run build:core`).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/tiny-models.js';
import { writeChatModel, writeConvertedChatModel } from './helpers.js';

const cli = fileURLToPath(new URL('../../../dist/electron/cli/fas.js', import.meta.url));

class Terminal {
  stdout = '';
  stderr = '';
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<number | null>;

  constructor(args: string[], cwd: string) {
    this.child = spawn(process.execPath, [cli, 'chat', ...args], { cwd });
    this.child.stdout.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  type(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** Waits until `check` holds for the output so far. */
  async until(check: (t: this) => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (!check(this)) {
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** The prompt is shown again: the reply (or command) is over. */
  prompts(): number {
    return this.stdout.split('> ').length - 1;
  }
}

describe('fas chat', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let model: string;
  let converted: string;
  beforeAll(async () => {
    ({ path: root, cleanup } = await tempDir());
    model = await writeChatModel(join(root, 'tiny-chat'), { contextLength: 4096 });
    converted = await writeConvertedChatModel(join(root, 'tiny-spiking'), { contextLength: 512, timesteps: 4 });
  });
  afterAll(() => cleanup());

  it('streams replies, saves the conversation, starts over and quits with /exit', async () => {
    const t = new Terminal([model, '--system', 'Be brief.', '--max-tokens', '6', '--temperature', '0', '--stats'], root);
    await t.until((x) => x.stdout === '> ', 'the first prompt');
    expect(t.stderr).toContain('Chatting with tiny-chat (plain transcript). /help lists the commands.');
    t.type('Hello there');
    await t.until((x) => x.prompts() === 2 && x.stdout.endsWith('\n> '), 'the reply');
    expect(t.stderr).toMatch(/\[\d+ tokens, [\d.]+ tokens\/s, first token after [\d.]+ s, /);
    t.type('/save chat.md');
    await t.until((x) => x.stderr.includes('Saved the conversation'), 'the save');
    const saved = await readFile(join(root, 'chat.md'), 'utf8');
    expect(saved).toMatch(/^# Hello there\n\n- Model: tiny-chat\n/);
    expect(saved).toContain('## System prompt\n\nBe brief.\n\n## User\n\nHello there\n\n## Assistant (tiny-chat)\n');
    t.type('/reset');
    await t.until((x) => x.stderr.includes('Started over.'), '/reset');
    t.type('/save chat.json');
    await t.until((x) => x.stderr.split('Saved the conversation').length === 3, 'the second save');
    expect(JSON.parse(await readFile(join(root, 'chat.json'), 'utf8')).chat.messages).toEqual([]);
    t.type('/nope');
    await t.until((x) => x.stderr.includes('There is no command /nope.'), 'the unknown command');
    t.type('/exit');
    expect(await t.exited).toBe(0);
  });

  it('stops a reply on Ctrl+C and quits on the next one', async () => {
    // Greedy without a repetition penalty, the tiny model writes on until the limit: time enough to stop it.
    const t = new Terminal([model, '--max-tokens', '4000', '--temperature', '0', '--repetition-penalty', '1'], root);
    await t.until((x) => x.prompts() === 1, 'the first prompt');
    t.type('Hi');
    await t.until((x) => x.stdout.length > 20, 'the reply to start');
    t.child.kill('SIGINT');
    await t.until((x) => x.stderr.includes('[stopped]') && x.stdout.endsWith('\n> '), 'the reply to stop');
    expect(t.child.exitCode).toBeNull();
    t.child.kill('SIGINT');
    expect(await t.exited).toBe(0);
  });

  it('chats with the spiking model at --T and prints what each reply cost', async () => {
    const t = new Terminal([converted, '--snn', '--T', '8', '--max-tokens', '6', '--temperature', '0'], root);
    await t.until((x) => x.prompts() === 1, 'the first prompt');
    expect(t.stderr).toContain(
      'Chatting with tiny-spiking (plain transcript). /help lists the commands.\nIt runs as the spiking model, T = 8 timesteps per token;',
    );
    t.type('Hello there');
    await t.until((x) => x.prompts() === 2 && x.stdout.endsWith('\n> '), 'the reply');
    expect(t.stderr).toMatch(
      /\[\d+ tokens, [\d.]+ tokens\/s, first token after [\d.]+ s, [^;]+; firing rate [\d.]+%; [\d.]+K? MACs \+ [\d.]+K? ACs per token; [\d.]+ µJ per token, \d+% (of|more than) the original's\]/,
    );
    t.type('/save spiking.json');
    await t.until((x) => x.stderr.includes('Saved the conversation'), 'the save');
    const saved = JSON.parse(await readFile(join(root, 'spiking.json'), 'utf8')).chat;
    expect(saved.mode).toEqual({ kind: 'snn', timesteps: 8 });
    expect(saved.messages[1].stats.ops.firingRates).toHaveLength(2);
    t.type('/exit');
    expect(await t.exited).toBe(0);
  });

  it('refuses the spiking mode of a model that is not converted', async () => {
    const t = new Terminal([model, '--snn'], root);
    expect(await t.exited).toBe(1);
    expect(t.stderr).toContain('is not a converted model (it has no spiking_config.json), so it has no spiking mode.');
  });

  it('refuses sampling settings the engine cannot use', async () => {
    const t = new Terminal([model, '--top-p', '0'], root);
    expect(await t.exited).toBe(1);
    expect(t.stderr).toContain('fas: --top-p: ');
  });
});
