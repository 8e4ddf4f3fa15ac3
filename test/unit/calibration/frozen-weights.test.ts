// The stage-1 weights read back in canonical layout must export to exactly the stored tensors:
// GPT-2's Conv1D weights are stored transposed and its c_attn fuses q, k and v.
import { describe, expect, it } from 'vitest';
import { readCanonicalTensors } from '../../../electron/core/calibration/frozen-weights.js';
import { hfTensorsFromCanonical } from '../../../electron/core/model/export.js';
import { openModelFolder } from '../../../electron/core/model/folder.js';
import { tempDir, writeTinyModel } from '../../helpers/tiny-models.js';

describe('frozen weights', () => {
  for (const variant of ['gpt2', 'llama'] as const) {
    it(`export back to the stored tensors (${variant})`, async () => {
      const temp = await tempDir();
      try {
        const tiny = await writeTinyModel(temp.path, variant);
        const folder = await openModelFolder(temp.path);
        const tensors = await readCanonicalTensors(folder);
        const exported = hfTensorsFromCanonical(folder.config, { prefix: folder.prefix, tiedHead: folder.spec.tiedHead }, (name) => tensors.get(name)!);
        for (const [name, tensor] of Object.entries(exported)) {
          expect(tensor.shape, name).toEqual(tiny.tensors[name]!.shape);
          expect(Array.from(tensor.data), name).toEqual(Array.from(tiny.tensors[name]!.values));
        }
      } finally {
        await temp.cleanup();
      }
    });
  }
});
