import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { byteTokenizerConfig, byteTokenizerJson } from '../../electron/core/model/gpt2-tokenizer.js';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../../dist/electron/cli/fas.js', import.meta.url));

async function fas(...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('fas CLI', () => {
  it('prints help', async () => {
    const res = await fas('--help');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('Usage: fas');
    expect(res.stdout).toContain('hardware');
  });

  it('prints its version', async () => {
    const res = await fas('--version');
    expect(res.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('prints the hardware as JSON', async () => {
    const res = await fas('hardware', '--json');
    expect(res.code).toBe(0);
    const hw = JSON.parse(res.stdout);
    expect(hw.logicalCores).toBeGreaterThan(0);
    expect(['cpu', 'cuda']).toContain(hw.backend);
  });

  it('suggests the right command on a typo', async () => {
    const res = await fas('hardwre');
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('Did you mean hardware?');
  });

  it('creates a fresh model with init and describes it with info', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fas-cli-'));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(byteTokenizerJson()));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(byteTokenizerConfig(64)));
    const out = join(dir, 'model');
    const init = await fas(
      'init',
      '--arch',
      'llama',
      '--layers',
      '2',
      '--d-model',
      '32',
      '--heads',
      '4',
      '--kv-heads',
      '2',
      '--context',
      '64',
      '--tokenizer',
      join(dir, 'tokenizer.json'),
      '--out',
      out,
    );
    expect(init.code, init.stderr).toBe(0);
    const info = await fas('info', out, '--json');
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ architecture: 'LLaMA', layers: 2, hiddenSize: 32, vocabSize: 257, maxPositions: 64, stage: 'ann' });
    const text = await fas('info', out);
    expect(text.stdout).toContain('LLaMA (llama), 2 layers');
  });

  it('explains why a folder is not a model', async () => {
    const res = await fas('info', tmpdir());
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^fas: .*has no config\.json/);
  });

  it('reports a broken tokenizer and absurd sizes at once, with the reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fas-cli-'));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(byteTokenizerJson()));
    const out = join(dir, 'model');
    const init = await fas(
      'init',
      '--arch',
      'gpt2',
      '--layers',
      '1',
      '--d-model',
      '16',
      '--heads',
      '2',
      '--context',
      '32',
      '--tokenizer',
      join(dir, 'tokenizer.json'),
      '--out',
      out,
    );
    expect(init.code, init.stderr).toBe(0);
    writeFileSync(join(out, 'tokenizer.json'), JSON.stringify({ ...byteTokenizerJson(), model: { type: 'BPE', vocab: {}, merges: [] }, added_tokens: [] }));
    const broken = await fas('info', out);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/tokenizer\.json has no usable vocabulary/);
    const config = join(out, 'config.json');
    writeFileSync(config, JSON.stringify({ model_type: 'gpt2', n_layer: 1e9 }));
    const huge = await fas('info', out);
    expect(huge.code).toBe(1);
    expect(huge.stderr).toMatch(/"n_layer": at most 1,024 layers are supported/);
  });

  it('rejects bad option values next to the option', async () => {
    const res = await fas('init', '--arch', 'gpt2', '--layers', 'two', '--d-model', '8', '--heads', '2', '--tokenizer', 'gpt2', '--out', '/tmp/x');
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain("option '--layers <n>' argument 'two' is invalid");
  });
});
