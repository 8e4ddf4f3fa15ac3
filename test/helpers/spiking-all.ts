// A tiny Hugging Face model plus a format 2, scope "all" spiking folder (fas-method.md section 9):
// per-channel thresholds at every site, deterministic, near the tiny models' activation scale.
import { join } from 'node:path';
import { openModelFolder } from '../../electron/core/model/folder.js';
import { writeSafetensors } from '../../electron/core/model/safetensors.js';
import { mulberry32 } from '../../electron/core/random.js';
import { SPIKING_WEIGHTS_FILE, writeSpikingConfig } from '../../electron/core/spiking/spiking-config.js';
import { LAYER_SITES, layerSiteWidths, spikingTensors, type AllScopeWeights } from '../../electron/core/spiking/spiking-weights.js';
import { writeTinyModel, type TinyVariant } from './tiny-models.js';

/** Writes the folder; layer 0's FFN site has one threshold, later layers one per neuron. */
export async function writeAllScopeModel(dir: string, variant: TinyVariant, T: number): Promise<AllScopeWeights> {
  await writeTinyModel(dir, variant);
  const random = mulberry32(7);
  const thresholds = (n: number) => Float32Array.from({ length: n }, () => 0.6 + 1.4 * random());
  const { spec } = await openModelFolder(dir);
  const widths = layerSiteWidths(spec);
  const weights: AllScopeWeights = {
    layers: Array.from({ length: spec.numLayers }, (_, i) => ({
      ...Object.fromEntries(LAYER_SITES.map((site) => [site, thresholds(widths[site])])),
      qcfs: thresholds(i === 0 ? 1 : spec.ffnSize),
    })) as AllScopeWeights['layers'],
    headIn: thresholds(spec.hiddenSize),
  };
  const signed = variant.startsWith('llama');
  await writeSpikingConfig(dir, { L: 8, T, neuron: 'if-soft-reset', signed, site: 'ffn_act', calibration: 'none', scope: 'all' });
  await writeSafetensors(join(dir, SPIKING_WEIGHTS_FILE), spikingTensors(weights));
  return weights;
}
