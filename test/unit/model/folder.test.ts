import { mkdir, open, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFolderError, type ModelFolderReason } from '../../../electron/core/model/errors.js';
import { openModelFolder } from '../../../electron/core/model/folder.js';
import { tempDir, writeTinyModel } from '../../helpers/tiny-models.js';

let root: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ path: root, cleanup } = await tempDir()));
afterAll(() => cleanup());

async function refusal(dir: string, reason: ModelFolderReason): Promise<string> {
  const error = await openModelFolder(dir).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelFolderError);
  expect((error as ModelFolderError).reason).toBe(reason);
  return (error as Error).message;
}

async function folderWith(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text);
  return dir;
}

const gpt2Config = JSON.stringify({ model_type: 'gpt2' });

describe('openModelFolder', () => {
  it('returns config, spec, tokenizer files and a summary', async () => {
    const dir = join(root, 'ok');
    await writeTinyModel(dir, 'qwen2', { dtype: 'BF16' });
    const opened = await openModelFolder(dir);
    expect(opened.dir).toBe(dir);
    expect(opened.config.modelType).toBe('qwen2');
    expect(opened.spec.family).toBe('llama');
    expect(opened.tokenizerFiles).toEqual({
      tokenizerJson: join(dir, 'tokenizer.json'),
      tokenizerConfig: join(dir, 'tokenizer_config.json'),
      specialTokensMap: null,
    });
    expect(opened.summary).toMatchObject({
      architecture: 'Qwen2',
      modelType: 'qwen2',
      layers: 2,
      hiddenSize: 16,
      vocabSize: 257,
      maxPositions: 32,
      dtypes: ['BF16'],
    });
    expect(opened.summary.weightBytes).toBe(opened.summary.parameterCount * 2);
    // the weights as the engine keeps them (BF16 matrices in 2 bytes, the vectors widened to 4) + a
    // float32 KV cache for 32 positions + one row of logits
    const vectors = Object.values(opened.spec.tensors).filter((t) => t.shape.length === 1);
    const vectorElements = vectors.reduce((n, t) => n + t.shape[0]!, 0);
    expect(vectorElements).toBeGreaterThan(0);
    const kv = 2 * 2 * 2 * 4 * 32 * 4;
    expect(opened.summary.estimatedRunBytes).toBe(opened.summary.parameterCount * 2 + vectorElements * 2 + kv + 257 * 4);
    expect(opened.warnings).toEqual([]);
  });

  it('warns when tokenizer_config.json is missing', async () => {
    const dir = join(root, 'no-tokenizer-config');
    await writeTinyModel(dir, 'gpt2');
    await rm(join(dir, 'tokenizer_config.json'));
    const opened = await openModelFolder(dir);
    expect(opened.tokenizerFiles.tokenizerConfig).toBeNull();
    expect(opened.warnings).toEqual([expect.stringMatching(/no tokenizer_config\.json/)]);
  });
});

describe('openModelFolder refuses, in plain words', () => {
  it('a path that does not exist or is a file', async () => {
    expect(await refusal(join(root, 'nowhere'), 'not-a-folder')).toMatch(/does not exist/);
    const file = join(root, 'a-file');
    await writeFile(file, 'x');
    expect(await refusal(file, 'not-a-folder')).toMatch(/is a file, not a folder/);
  });

  it('a folder without config.json', async () => {
    const dir = await folderWith('no-config', { 'model.safetensors': '' });
    expect(await refusal(dir, 'missing-config')).toContain(`${dir} has no config.json`);
  });

  it('a config.json that is not JSON', async () => {
    const dir = await folderWith('bad-json', { 'config.json': '{ "model_type": ' });
    expect(await refusal(dir, 'invalid-config')).toContain(`${join(dir, 'config.json')} is not valid JSON`);
  });

  it('an unsupported architecture', async () => {
    const dir = await folderWith('mistral', { 'config.json': JSON.stringify({ model_type: 'mistral' }) });
    expect(await refusal(dir, 'unsupported-architecture')).toMatch(/"mistral" is not supported/);
  });

  it('a folder with only pickle weights, explaining why and how to convert', async () => {
    const dir = await folderWith('pickle', {
      'config.json': gpt2Config,
      'pytorch_model.bin': 'not really',
      'training_args.bin': 'x',
      'tokenizer.json': '{}',
    });
    const message = await refusal(dir, 'pickle-only');
    expect(message).toContain('pytorch_model.bin');
    expect(message).not.toContain('training_args.bin');
    expect(message).toMatch(/can run arbitrary code/);
    expect(message).toContain('save_pretrained(folder, safe_serialization=True)');
  });

  it('other pickle-like formats (.pt, .ckpt) the same way', async () => {
    const dir = await folderWith('ckpt', { 'config.json': gpt2Config, 'model.ckpt': 'x', 'weights.pt': 'x' });
    expect(await refusal(dir, 'pickle-only')).toContain('model.ckpt, weights.pt');
  });

  it('a folder without any weights, naming formats it does not read', async () => {
    const dir = await folderWith('gguf', { 'config.json': gpt2Config, 'model.gguf': 'x', 'training_args.bin': 'x' });
    const message = await refusal(dir, 'missing-weights');
    expect(message).toMatch(/no weights in safetensors format/);
    expect(message).toContain('model.gguf');
  });

  it('a folder without tokenizer.json', async () => {
    const dir = join(root, 'no-tokenizer');
    await writeTinyModel(dir, 'opt');
    await rm(join(dir, 'tokenizer.json'));
    expect(await refusal(dir, 'missing-tokenizer')).toMatch(/no tokenizer\.json.*save_pretrained/);
  });

  it('a corrupt safetensors file, naming it', async () => {
    const dir = join(root, 'corrupt');
    await writeTinyModel(dir, 'llama');
    const file = join(dir, 'model.safetensors');
    const handle = await open(file, 'r+');
    await handle.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]), 0, 8, 0);
    await handle.close();
    const message = await refusal(dir, 'corrupt-weights');
    expect(message).toContain(file);
    expect(message).toMatch(/download or export it again/);
  });

  it('a truncated safetensors file, naming the tensor', async () => {
    const dir = join(root, 'truncated');
    await writeTinyModel(dir, 'gpt2');
    const file = join(dir, 'model.safetensors');
    await truncate(file, (await stat(file)).size - 100);
    expect(await refusal(dir, 'corrupt-weights')).toMatch(/tensor ".*": data_offsets .* fall outside/);
  });
});

describe('hostile model folders', () => {
  async function tinyWith(name: string, edit: (files: { config: Record<string, unknown>; tokenizer: Record<string, unknown> }) => void): Promise<string> {
    const dir = join(root, name);
    await writeTinyModel(dir, 'llama');
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const tokenizer = JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
    edit({ config, tokenizer });
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
    return dir;
  }

  it('refuses a billion layers at once, naming the field and the limit', async () => {
    const dir = await tinyWith('billion-layers', ({ config }) => (config.num_hidden_layers = 1e9));
    const started = Date.now();
    const message = await refusal(dir, 'invalid-config');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(message).toContain('"num_hidden_layers": at most 1,024 layers are supported');
  });

  it('refuses sizes whose product the weights cannot hold, with both numbers', async () => {
    const dir = await tinyWith('too-wide', ({ config }) => {
      config.num_hidden_layers = 1000;
      config.vocab_size = 4_000_000;
    });
    const message = await refusal(dir, 'tensor-mismatch');
    expect(message).toMatch(
      /1,000 layers, hidden size 16 and a vocabulary of 4,000,000, which needs at least [\d,]+ weights, but .*model\.safetensors holds only [\d,]+\./,
    );
  });

  it('reports a tokenizer.json with no usable vocabulary as broken, with the reason', async () => {
    const empty = await tinyWith('empty-vocab', ({ tokenizer }) => {
      tokenizer.model = { type: 'BPE', vocab: {}, merges: [] };
      tokenizer.added_tokens = [];
    });
    expect(await refusal(empty, 'invalid-tokenizer')).toMatch(
      /tokenizer\.json has no usable vocabulary: it turns the text "Hello, world! 123" into no tokens at all\./,
    );
    const foreign = await tinyWith('foreign-vocab', ({ tokenizer }) => {
      const model = tokenizer.model as { vocab: Record<string, number> };
      model.vocab = Object.fromEntries(Object.entries(model.vocab).map(([token, id]) => [token, id + 1000]));
    });
    expect(await refusal(foreign, 'invalid-tokenizer')).toMatch(/into token \d+, but the model has embeddings for ids 0 to 256 only/);
  });

  it('refuses a pre-tokenizer pattern that can backtrack catastrophically, before running it', async () => {
    const dir = await tinyWith('redos', ({ tokenizer }) => {
      tokenizer.pre_tokenizer = {
        type: 'Sequence',
        pretokenizers: [{ type: 'Split', pattern: { Regex: '(\\w+\\s?)+$' }, behavior: 'Isolated', invert: false }, tokenizer.pre_tokenizer],
      };
    });
    expect(await refusal(dir, 'invalid-tokenizer')).toMatch(/repeats a group that itself repeats/);
  });
});
