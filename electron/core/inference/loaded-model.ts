// A model folder opened, checked and loaded into the engine, with its tokenizer. A converted model
// (a folder with spiking_config.json) loads with its spiking.safetensors, so the engine can also run
// it in the 'qcfs' and 'snn' modes (native/index.ts, fas-method.md sections 2, 3 and 7).
import { loadNative, type InferenceMode, type NativeModel, type NativeSpikingParams } from '../../../native/index.js';
import { openModelFolder, type OpenedModelFolder } from '../model/folder.js';
import type { TextTokenizer } from '../model/tokenizer.js';
import { readSpikingConfig, type SpikingConfig } from '../spiking/spiking-config.js';
import { readAllScopeWeights, readSpikingWeights } from '../spiking/spiking-weights.js';
import { guardEngine, watchWeightFiles } from './weight-files.js';

export interface LoadedModel {
  folder: OpenedModelFolder;
  tokenizer: TextTokenizer;
  engine: NativeModel;
  /** The folder's spiking_config.json; null for a plain (ANN) model. */
  spiking: SpikingConfig | null;
}

export interface LoadOptions {
  /** Where 'snn' runs its neurons and spike-driven layer: 'cuda' uses a usable GPU, else the CPU. Default 'cpu'. */
  spikingBackend?: 'cpu' | 'cuda';
}

export async function loadModel(dir: string, options: LoadOptions = {}): Promise<LoadedModel> {
  return loadOpenedModel(await openModelFolder(dir), options);
}

/** Loads a folder already opened (and checked, for example against the memory available). */
export async function loadOpenedModel(folder: OpenedModelFolder, options: LoadOptions = {}): Promise<LoadedModel> {
  const { tokenizer } = folder;
  const spiking = await readSpikingConfig(folder.dir);
  const params = spiking && (await spikingParams(folder, spiking, options.spikingBackend ?? 'cpu'));
  const unchanged = watchWeightFiles(Object.values(folder.spec.tensors).map((t) => t.file));
  const engine = guardEngine(await loadNative().loadModel(folder.spec, { spiking: params }), unchanged);
  return { folder, tokenizer, engine, spiking };
}

/** The modes the model runs in: 'ann' always, 'qcfs' and 'snn' for a converted model. */
export function inferenceModes(model: LoadedModel): InferenceMode[] {
  return model.spiking ? ['ann', 'qcfs', 'snn'] : ['ann'];
}

async function spikingParams(folder: OpenedModelFolder, config: SpikingConfig, backend: 'cpu' | 'cuda'): Promise<NativeSpikingParams> {
  const { numLayers, ffnSize } = folder.spec;
  if (config.scope === 'all') {
    const { layers, headIn } = await readAllScopeWeights(folder.dir, folder.spec);
    return { scope: 'all', levels: config.L, signed: config.signed, timesteps: config.T, sites: layers, headIn, backend };
  }
  const weights = await readSpikingWeights(folder.dir, numLayers, ffnSize, config.calibration !== 'none');
  return { levels: config.L, signed: config.signed, timesteps: config.T, lambdas: weights.lambdas, neurons: weights.neurons, backend };
}
