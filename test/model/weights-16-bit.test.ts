// 16-bit checkpoints run with their matrices kept in 16 bits (native/src/engine/weight_view.h): the
// logits of tiny GPT-2, OPT and LLaMA models stored as F16 and as BF16 against the same weights
// widened to F32, in every mode (the spiking modes share the matrix kernels), and against the
// original F32 weights the 16-bit ones were rounded from.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FloatDType } from '../../electron/core/model/dtype.js';
import { openModelFolder } from '../../electron/core/model/folder.js';
import { mulberry32 } from '../../electron/core/random.js';
import { LAYER_SITES, layerSiteWidths } from '../../electron/core/spiking/spiking-weights.js';
import { loadNative, type ForwardOptions, type NativeModel, type NativeModelSpec, type NativeSpikingParams } from '../../native/index.js';
import { tempDir, tinyModelContents, writeTinyFolder, type TinyModelContents, type TinyVariant } from '../helpers/tiny-models.js';

const IDS = [256, 72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100];

// Widened weights are the same numbers, so the engine computes the same products in the same order:
// the logits agree to float rounding (in practice they are identical).
const SAME_WEIGHTS_TOLERANCE = 1e-6;
// Against the unrounded F32 weights, the error is 16-bit rounding carried through the layers. With u
// the dtype's unit of rounding (2^-11 for F16, 2^-8 for BF16; a weight moves by at most u/2 of its
// size), the tiny models' logits moved by at most 7u (measured: 2.6e-3 with F16, 2.6e-2 with BF16);
// the test allows 20u.
const ROUNDING_TOLERANCE: Record<'F16' | 'BF16', number> = { F16: 20 * 2 ** -11, BF16: 20 * 2 ** -8 };

/** Largest |a - b| over the largest |b|. */
function normalisedError(actual: Float32Array, expected: Float32Array): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
    norm = Math.max(norm, Math.abs(expected[i]!));
  }
  return diff / norm;
}

function widenedToF32(contents: TinyModelContents): TinyModelContents {
  const tensors = Object.fromEntries(Object.entries(contents.tensors).map(([name, t]) => [name, { ...t, dtype: 'F32' as FloatDType }]));
  return { config: contents.config, tensors };
}

/** Scope ffn spiking parameters: a lambda near the tiny models' activation scale per layer. */
function ffnSpiking(layers: number, signed: boolean): NativeSpikingParams {
  return { levels: 8, signed, timesteps: 4, lambdas: Float32Array.from({ length: layers }, (_, i) => 0.8 + 0.2 * i) };
}

/** Scope all: thresholds at every site, near the activation scale (as test/helpers/spiking-all.ts). */
function allSpiking(spec: NativeModelSpec, signed: boolean): NativeSpikingParams {
  const random = mulberry32(7);
  const thresholds = (n: number) => Float32Array.from({ length: n }, () => 0.6 + 1.4 * random());
  const widths = layerSiteWidths(spec);
  const sites = Array.from({ length: spec.numLayers }, () => ({
    ...(Object.fromEntries(LAYER_SITES.map((site) => [site, thresholds(widths[site])])) as Record<(typeof LAYER_SITES)[number], Float32Array>),
    qcfs: thresholds(spec.ffnSize),
  }));
  return { levels: 8, signed, timesteps: 4, scope: 'all', sites, headIn: thresholds(spec.hiddenSize) };
}

/** The folder loaded three times: plain, with scope ffn and with scope all spiking parameters. */
async function load(dir: string, signed: boolean): Promise<NativeModel[]> {
  const { spec } = await openModelFolder(dir);
  const native = loadNative();
  return Promise.all([{}, { spiking: ffnSpiking(spec.numLayers, signed) }, { spiking: allSpiking(spec, signed) }].map((o) => native.loadModel(spec, o)));
}

const MODES: ForwardOptions[] = [{ mode: 'ann' }, { mode: 'qcfs' }, { mode: 'snn', timesteps: 4 }];

describe('16-bit weights in place give the logits of the F32 path', async () => {
  const temp = await tempDir();
  afterAll(() => temp.cleanup());
  const variants: TinyVariant[] = ['gpt2', 'opt', 'llama'];
  for (const variant of variants) {
    for (const dtype of ['F16', 'BF16'] as const) {
      it(`${variant} in ${dtype}`, async () => {
        const base = join(temp.path, `${variant}-${dtype}`);
        const half = tinyModelContents(variant, { dtype });
        await writeTinyFolder(`${base}-half`, half);
        await writeTinyFolder(`${base}-wide`, widenedToF32(half));
        await writeTinyFolder(`${base}-original`, tinyModelContents(variant));
        const signed = variant === 'llama';
        const [halfModels, wideModels, [original]] = await Promise.all(['half', 'wide', 'original'].map((which) => load(`${base}-${which}`, signed)));
        const ids = Int32Array.from([...IDS, ...IDS, ...IDS]);
        for (const [m, scope] of ['ann', 'spiking scope ffn', 'spiking scope all'].entries()) {
          for (const options of m === 0 ? MODES.slice(0, 1) : MODES) {
            // One sequence runs the decode kernels (13 rows); three in a batch (39 rows) the packed GEMM.
            for (const batch of [1, 3]) {
              const run = (model: NativeModel) => model.forward(ids.subarray(0, batch * IDS.length), batch, IDS.length, options);
              const [got, want] = await Promise.all([run(halfModels![m]!), run(wideModels![m]!)]);
              expect(normalisedError(got, want), `${scope}, ${options.mode}, batch ${batch}`).toBeLessThan(SAME_WEIGHTS_TOLERANCE);
            }
          }
        }
        const run = (model: NativeModel) => model.forward(ids.subarray(0, IDS.length), 1, IDS.length);
        expect(normalisedError(await run(halfModels![0]!), await run(original!))).toBeLessThan(ROUNDING_TOLERANCE[dtype]);
        for (const model of [...halfModels!, ...wideModels!, original!]) model.dispose();
      });
    }
  }
});
