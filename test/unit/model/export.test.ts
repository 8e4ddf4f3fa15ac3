import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hfTensorsFromCanonical } from '../../../electron/core/model/export.js';
import { openModelFolder } from '../../../electron/core/model/folder.js';
import { decodeFloats } from '../../../electron/core/model/dtype.js';
import { readTensorBytes } from '../../../electron/core/model/safetensors.js';
import type { NativeTensorRef } from '../../../native/index.js';
import { TINY_VARIANTS, tempDir, writeTinyModel } from '../../helpers/tiny-models.js';

/** What the engine does on load, written out plainly: transpose [in, out] to [out, in], then take the split part. */
async function canonicalValues(ref: NativeTensorRef): Promise<Float32Array> {
  let values = decodeFloats(await readTensorBytes(ref), ref.dtype);
  let [rows, cols] = ref.shape.length === 2 ? (ref.shape as [number, number]) : [ref.shape[0]!, 1];
  if (ref.transposed) {
    const t = new Float32Array(values.length);
    for (let i = 0; i < rows; i++) for (let o = 0; o < cols; o++) t[o * rows + i] = values[i * cols + o]!;
    values = t;
    [rows, cols] = [cols, rows];
  }
  if (ref.split) {
    const part = rows / ref.split.parts;
    values = values.slice(ref.split.index * part * cols, (ref.split.index + 1) * part * cols);
  }
  return values;
}

describe('hfTensorsFromCanonical', async () => {
  const temp = await tempDir();
  afterAll(() => temp.cleanup());

  for (const variant of TINY_VARIANTS) {
    it(`gives back the original Hugging Face tensors of a tiny ${variant}`, async () => {
      const tiny = await writeTinyModel(join(temp.path, variant), variant);
      const folder = await openModelFolder(tiny.dir);
      const canonical = new Map<string, Float32Array>();
      for (const [name, ref] of Object.entries(folder.spec.tensors)) canonical.set(name, await canonicalValues(ref));
      const exported = hfTensorsFromCanonical(folder.config, { prefix: folder.prefix, tiedHead: folder.spec.tiedHead }, (name) => {
        const values = canonical.get(name);
        if (!values) throw new Error(`no canonical tensor ${name}`);
        return values;
      });
      // Buffers are not weights, and a tied head is the embedding: neither is written back.
      const skipped = (name: string) => /\.attn\.(bias|masked_bias)$|inv_freq$/.test(name) || (folder.spec.tiedHead && name === 'lm_head.weight');
      const expected = Object.entries(tiny.tensors).filter(([name]) => !skipped(name));
      expect(Object.keys(exported).sort()).toEqual(expected.map(([name]) => name).sort());
      for (const [name, tensor] of expected) {
        expect(exported[name]!.shape, name).toEqual(tensor.shape);
        expect(exported[name]!.data, name).toEqual(tensor.values);
      }
    });
  }
});
