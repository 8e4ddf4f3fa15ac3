// Writes what a job produced as a model folder: the Hugging Face files (weights exported from the
// engine's canonical tensors, tokenizer copied from the source) plus, for converted models, the
// spiking files of fas-method.md section 7, and any extra files (a training checkpoint's state).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { OpenedModelFolder } from '../model/folder.js';
import { hfTensorsFromCanonical } from '../model/export.js';
import type { WritableTensor } from '../model/safetensors.js';
import { writeModelFolder } from '../model/writer.js';
import { SPIKING_CONFIG_FILE, SPIKING_WEIGHTS_FILE, spikingConfigJson, type SpikingConfigInput } from '../spiking/spiking-config.js';
import { spikingTensors, type AllScopeWeights, type SpikingWeights } from '../spiking/spiking-weights.js';

export interface DerivedModel {
  /** The folder the model came from: its config, naming and tokenizer are kept. */
  source: OpenedModelFolder;
  /** Canonical tensor by name (from the trainer or the inference engine). */
  read(canonical: string): Float32Array;
  /** metadata: strings for spiking.safetensors' header (how the values were made); the format's files are unchanged. */
  spiking?: { config: SpikingConfigInput; weights: SpikingWeights | AllScopeWeights; metadata?: Record<string, string> };
  extraFiles?: Record<string, string>;
  extraTensorFiles?: Record<string, Record<string, WritableTensor>>;
}

export async function writeDerivedModel(dir: string, model: DerivedModel): Promise<void> {
  const { source } = model;
  const readJson = async (file: string | null) => (file ? (JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>) : {});
  const config = await readJson(join(source.dir, 'config.json'));
  const extraFiles: Record<string, string> = { ...model.extraFiles };
  const extraTensorFiles = { ...model.extraTensorFiles };
  const extraTensorMetadata: Record<string, Record<string, string>> = {};
  if (source.tokenizerFiles.specialTokensMap) extraFiles['special_tokens_map.json'] = await readFile(source.tokenizerFiles.specialTokensMap, 'utf8');
  if (model.spiking) {
    extraFiles[SPIKING_CONFIG_FILE] = JSON.stringify(spikingConfigJson(model.spiking.config), null, 2) + '\n';
    extraTensorFiles[SPIKING_WEIGHTS_FILE] = spikingTensors(model.spiking.weights);
    if (model.spiking.metadata) extraTensorMetadata[SPIKING_WEIGHTS_FILE] = model.spiking.metadata;
  }
  await writeModelFolder(dir, {
    config,
    tensors: hfTensorsFromCanonical(source.config, { prefix: source.prefix, tiedHead: source.spec.tiedHead }, model.read),
    tokenizerJson: await readJson(source.tokenizerFiles.tokenizerJson),
    tokenizerConfig: await readJson(source.tokenizerFiles.tokenizerConfig),
    extraFiles,
    extraTensorFiles,
    extraTensorMetadata,
  });
}
