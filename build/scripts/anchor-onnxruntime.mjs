// onnxruntime-node anchor for `fas bench` (docs/performance.md): the model of build/scripts/anchor-pytorch.py
// (GPT-2-124M shape, random weights, exported by that script), prefill of 4 x 256 tokens timed as there, so the
// engine's numbers can be read as ratios on one machine. onnxruntime-node is no dependency of this project:
// install it in a scratch folder (the environment variable skips its CUDA download) and pass that folder.
//
//   ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix /tmp/fas-anchors onnxruntime-node@1.31.1
//   /usr/bin/python3 build/scripts/anchor-pytorch.py --export-onnx /tmp/fas-anchors/onnx
//   node build/scripts/anchor-onnxruntime.mjs --scratch /tmp/fas-anchors [--models DIR] [--threads 2] [--beside-engine DIR]
//
// Prints JSON: the largest difference between its logits and PyTorch's on a few tokens (against the largest
// logit), and prefill tokens/s with the last position's logits and with every position's, best of 3 after a
// warm-up, under the keys of the other anchors. With --beside-engine (the bench model's folder, which
// `fas bench` makes: /tmp/fas-bench-gpt2-124m), it then runs the full-logits prefill of onnxruntime and of
// this engine (built: `npm run build`) in turn in this one process, so that both meet the same load: on a
// shared machine, runs a minute apart differ by more than the engines do.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    scratch: { type: 'string', default: process.env.FAS_ANCHORS },
    models: { type: 'string' },
    threads: { type: 'string', default: '2' },
    'beside-engine': { type: 'string' },
    rounds: { type: 'string', default: '6' },
  },
});
if (!args.scratch) throw new Error('Give the folder where onnxruntime-node is installed: --scratch DIR (or FAS_ANCHORS=DIR).');
const ort = createRequire(join(resolve(args.scratch), 'noop.js'))('onnxruntime-node');
const models = args.models ?? join(args.scratch, 'onnx');
const threads = Number(args.threads);
const REPEATS = 3;

// The bench's token ids (electron/core/bench/bench-inference.ts and anchor-pytorch.py).
const ids = (batch, length) =>
  new ort.Tensor(
    'int64',
    BigInt64Array.from({ length: batch * length }, (_, i) => BigInt((i * 7919) % 50257)),
    [batch, length],
  );

async function open(name) {
  return ort.InferenceSession.create(join(models, `gpt2-${name}.onnx`), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
}

// The largest difference from PyTorch's logits of the check tokens (all positions, or the last one's row).
async function difference(session, lastOnly) {
  const checkIds = JSON.parse(readFileSync(join(models, 'check-ids.json'), 'utf8')).flat();
  const input = new ort.Tensor('int64', BigInt64Array.from(checkIds, BigInt), [1, checkIds.length]);
  const { logits } = await session.run({ ids: input });
  const file = readFileSync(join(models, 'check-logits.f32'));
  const reference = new Float32Array(file.buffer, file.byteOffset, file.byteLength / 4);
  const expected = lastOnly ? reference.subarray(reference.length - logits.data.length) : reference;
  if (expected.length !== logits.data.length) throw new Error(`${logits.data.length} logits where PyTorch gave ${expected.length}`);
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff = Math.max(diff, Math.abs(logits.data[i] - expected[i]));
  return { diff, largest: expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0) };
}

async function prefillTokensPerSecond(name) {
  const session = await open(name);
  const check = await difference(session, name === 'last');
  const input = { ids: ids(4, 256) };
  await session.run(input); // warm-up: pages in the weights, sizes the arena for this shape
  let best = Infinity;
  for (let r = 0; r < REPEATS; r++) {
    const start = performance.now();
    await session.run(input);
    best = Math.min(best, (performance.now() - start) / 1000);
  }
  await session.release();
  return { tokensPerSecond: Math.round((4 * 256 * 10) / best) / 10, check };
}

// Rounds of one full-logits prefill each, onnxruntime's and the engine's in turn (which goes first
// alternates): the best of each and their ratio, and each round's ratio.
async function besideEngine(folder) {
  const { openModelFolder } = await import('../../dist/electron/core/model/folder.js');
  const { loadNative } = await import('../../dist/native/index.js');
  const { spec } = await openModelFolder(folder);
  if (spec.vocabSize !== 50257 || spec.numLayers !== 12 || spec.hiddenSize !== 768) throw new Error(`${folder} is not the bench model (GPT-2-124M shape)`);
  const native = loadNative();
  native.setThreads(threads);
  const engine = await native.loadModel(spec);
  const session = await open('full');
  const input = { ids: ids(4, 256) };
  const engineIds = Int32Array.from(input.ids.data, Number);
  const runs = [() => session.run(input), () => engine.forward(engineIds, 4, 256, { lastOnly: false })];
  for (const run of runs) await run(); // warm-up
  const seconds = [[], []];
  for (let r = 0; r < Number(args.rounds); r++) {
    for (const i of r % 2 ? [1, 0] : [0, 1]) {
      const start = performance.now();
      await runs[i]();
      seconds[i].push((performance.now() - start) / 1000);
    }
  }
  await session.release();
  engine.dispose();
  const tokensPerSecond = (s) => Math.round((4 * 256 * 10) / s) / 10;
  const best = seconds.map((s) => tokensPerSecond(Math.min(...s)));
  return {
    rounds: seconds[0].length,
    onnxruntimeBest: best[0],
    engineBest: best[1],
    engineOverOnnxruntime: Number((best[1] / best[0]).toFixed(3)),
    perRound: seconds[0].map((s, r) => Number((s / seconds[1][r]).toFixed(3))),
  };
}

const last = await prefillTokensPerSecond('last');
const full = await prefillTokensPerSecond('full');
const relative = (c) => Number((c.diff / c.largest).toPrecision(2));
console.log(
  JSON.stringify(
    {
      onnxruntime: ort.env.versions.node,
      threads,
      checkMaxAbsDifference: { last: last.check.diff, full: full.check.diff, overLargestLogit: Math.max(relative(last.check), relative(full.check)) },
      prefillTokensPerSecond: last.tokensPerSecond,
      prefillFullLogitsTokensPerSecond: full.tokensPerSecond,
      ...(args['beside-engine'] && { fullLogitsBesideEngine: await besideEngine(args['beside-engine']) }),
    },
    null,
    2,
  ),
);
