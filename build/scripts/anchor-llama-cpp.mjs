// llama.cpp anchor for `fas bench` (docs/performance.md), through node-llama-cpp: the model of
// build/scripts/anchor-pytorch.py (GPT-2-124M shape, random weights) written as an F32 GGUF by that script,
// prompt processing of 256 tokens (one sequence, llama.cpp computes the last position's logits) and greedy
// decode, on the CPU. node-llama-cpp is no dependency of this project: install it in a scratch folder (its
// prebuilt llama.cpp binaries come as optional npm packages) and pass that folder.
//
//   npm install --prefix /tmp/fas-anchors node-llama-cpp@3.21.1
//   /usr/bin/python3 build/scripts/anchor-pytorch.py --export-gguf /tmp/fas-anchors/gpt2-f32.gguf
//   node build/scripts/anchor-llama-cpp.mjs --scratch /tmp/fas-anchors [--model FILE] [--threads 2]
//
// Prints JSON: prompt tokens/s (best of 3 after a warm-up) and decode tokens/s (32 tokens after a 16-token prompt).
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    scratch: { type: 'string', default: process.env.FAS_ANCHORS },
    model: { type: 'string' },
    threads: { type: 'string', default: '2' },
  },
});
if (!args.scratch) throw new Error('Give the folder where node-llama-cpp is installed: --scratch DIR (or FAS_ANCHORS=DIR).');
const entry = join(resolve(args.scratch), 'node_modules/node-llama-cpp/dist/index.js');
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(entry).href);
const threads = Number(args.threads);

// The bench's token ids (electron/core/bench/bench-inference.ts and anchor-pytorch.py).
const ids = (n) => Array.from({ length: n }, (_, i) => (i * 7919) % 50257);

const llama = await getLlama({ gpu: false, build: 'never', maxThreads: threads, logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath: args.model ?? join(args.scratch, 'gpt2-f32.gguf'), gpuLayers: 0 });
const context = await model.createContext({ contextSize: 1024, batchSize: 256, threads, sequences: 1 });
const sequence = context.getSequence();

let best = Infinity;
for (let r = 0; r <= 3; r++) {
  await sequence.clearHistory();
  const start = performance.now();
  await sequence.evaluateWithoutGeneratingNewTokens(ids(256));
  if (r > 0) best = Math.min(best, (performance.now() - start) / 1000); // round 0 warms up
}

await sequence.clearHistory();
let decoded = -1; // the first token ends the prompt: the clock starts there
let decodeStart = 0;
const greedy = [];
for await (const token of sequence.evaluate(ids(16), { temperature: 0 })) {
  greedy.push(token);
  if (++decoded === 0) decodeStart = performance.now();
  if (decoded === 32) break;
}
const decodeSeconds = (performance.now() - decodeStart) / 1000;

console.log(
  JSON.stringify(
    {
      llamaCpp: llama.llamaCppRelease?.release,
      nodeLlamaCpp: JSON.parse(readFileSync(join(dirname(entry), '../package.json'), 'utf8')).version,
      threads,
      promptTokens: 256,
      promptTokensPerSecond: Math.round((256 * 10) / best) / 10,
      decodedTokens: decoded,
      greedyIds: greedy.slice(0, 8), // after ids(16): compare with PyTorch's greedy continuation
      decodeTokensPerSecond: Math.round((decoded * 10) / decodeSeconds) / 10,
    },
    null,
    2,
  ),
);
await llama.dispose();
