// Hugging Face tensor names -> the engine's canonical names. Every tensor the config implies must be
// present with the implied shape and a float dtype; what is left over is reported, not loaded.
import type { ModelFamily, NativeModelSpec, NativeTensorRef } from '../../../native/index.js';
import type { Checkpoint } from './checkpoint.js';
import type { ModelConfig, ModelHyperParams } from './config.js';
import { isFloatDType } from './dtype.js';
import { ModelFolderError } from './errors.js';
import { gpt2Layout } from './layouts/gpt2.js';
import { llamaLayout } from './layouts/llama.js';
import { optLayout } from './layouts/opt.js';
import type { FamilyLayout, PlannedTensor } from './layouts/types.js';

const LAYOUTS: Record<ModelFamily, FamilyLayout> = { gpt2: gpt2Layout, opt: optLayout, llama: llamaLayout };

export function familyLayout(family: ModelFamily): FamilyLayout {
  return LAYOUTS[family];
}

/** The output head; every family keeps it outside the model prefix. */
export const HEAD = 'lm_head.weight';

export interface MappedModel {
  spec: NativeModelSpec;
  /** The prefix this checkpoint's tensor names use (e.g. "model."), kept when writing it back. */
  prefix: string;
  warnings: string[];
}

export function buildModelSpec(config: ModelConfig, checkpoint: Checkpoint): MappedModel {
  const layout = LAYOUTS[config.family];
  const prefix = layout.prefixes.find((p) => checkpoint.tensors.has(p + layout.probe));
  if (prefix === undefined) {
    const tried = layout.prefixes.map((p) => `"${p}${layout.probe}"`).join(' or ');
    throw mismatch(`${checkpoint.source} has no ${tried} tensor, so its weights do not look like the ${config.modelType} model ` + 'config.json describes.');
  }
  checkSizesFitWeights(config, checkpoint);

  const tensors: Record<string, NativeTensorRef> = {};
  const used = new Set<string>();
  const add = (planned: PlannedTensor, name: string): void => {
    tensors[planned.canonical] = tensorRef(config, checkpoint, planned, name);
    used.add(name);
  };
  for (const planned of layout.tensors(config)) add(planned, prefix + planned.hfName);

  const warnings: string[] = [];
  const tiedHead = config.tieWordEmbeddings || !checkpoint.tensors.has(HEAD);
  if (!tiedHead) {
    add({ canonical: 'head.weight', hfName: HEAD, shape: [config.vocabSize, config.wordEmbedDim] }, HEAD);
  } else if (!config.tieWordEmbeddings) {
    warnings.push(`config.json sets tie_word_embeddings=false but the weights have no "${HEAD}"; ` + 'the token embedding is used as the output head.');
  }

  const isBuffer = (name: string) => name.startsWith(prefix) && (layout.buffers?.test(name.slice(prefix.length)) ?? false);
  const unexpected = [...checkpoint.tensors.keys()].filter((name) => !used.has(name) && name !== HEAD && !isBuffer(name));
  if (unexpected.length > 0) {
    const shown = unexpected
      .slice(0, 5)
      .map((name) => `"${name}"`)
      .join(', ');
    const more = unexpected.length > 5 ? ` and ${unexpected.length - 5} more` : '';
    warnings.push(`Ignored ${unexpected.length} tensor(s) that a ${config.modelType} model does not use: ${shown}${more}.`);
  }

  return { spec: { ...hyperParams(config), tiedHead, tensors }, prefix, warnings };
}

/**
 * The sizes in config.json imply a least number of weights (embedding plus every layer's attention
 * and FFN matrices). When the files hold fewer, config.json and the weights do not belong together:
 * say so with both numbers before planning (and looping over) tensors the files cannot have.
 */
function checkSizesFitWeights(config: ModelConfig, checkpoint: Checkpoint): void {
  const h = config.hiddenSize;
  const q = config.numHeads * config.headDim;
  const kv = config.numKvHeads * config.headDim;
  const ffnMatrices = config.activation === 'silu_gated' ? 3 : 2;
  const implied = config.vocabSize * config.wordEmbedDim + config.numLayers * (2 * h * q + 2 * h * kv + ffnMatrices * h * config.ffnSize);
  let stored = 0;
  for (const tensor of checkpoint.tensors.values()) stored += tensor.shape.reduce((a, b) => a * b, 1);
  if (implied > stored) {
    throw mismatch(
      `config.json describes a ${config.modelType} model with ${config.numLayers.toLocaleString('en-US')} layers, hidden size ` +
        `${h.toLocaleString('en-US')} and a vocabulary of ${config.vocabSize.toLocaleString('en-US')}, which needs at least ` +
        `${implied.toLocaleString('en-US')} weights, but ${checkpoint.source} holds only ${stored.toLocaleString('en-US')}. ` +
        'The weights and config.json do not belong together.',
    );
  }
}

function tensorRef(config: ModelConfig, checkpoint: Checkpoint, planned: PlannedTensor, name: string): NativeTensorRef {
  const tensor = checkpoint.tensors.get(name);
  if (!tensor) {
    throw mismatch(
      `Tensor "${name}" is missing from ${checkpoint.source}. config.json describes a ${config.modelType} model ` +
        `with ${config.numLayers} layers and hidden size ${config.hiddenSize}; the weights do not match it.`,
    );
  }
  if (!isFloatDType(tensor.dtype)) {
    throw mismatch(
      `${tensor.file}: tensor "${name}" has dtype ${tensor.dtype}; only F32, F16 and BF16 weights are supported. ` + 'Use the original, unquantized weights.',
    );
  }
  if (tensor.shape.length !== planned.shape.length || tensor.shape.some((dim, i) => dim !== planned.shape[i])) {
    throw mismatch(
      `${tensor.file}: tensor "${name}" has shape [${tensor.shape.join(', ')}] but config.json implies ` +
        `[${planned.shape.join(', ')}]. The weights and config.json do not belong together.`,
    );
  }
  const ref: NativeTensorRef = {
    file: tensor.file,
    offset: tensor.offset,
    byteLength: tensor.byteLength,
    dtype: tensor.dtype,
    shape: [...tensor.shape],
  };
  if (planned.transposed) ref.transposed = true;
  if (planned.split) ref.split = { ...planned.split };
  return ref;
}

function mismatch(message: string): ModelFolderError {
  return new ModelFolderError('tensor-mismatch', message);
}

/** Only the engine's fields, so the spec stays a plain description of the model. */
function hyperParams(c: ModelConfig): ModelHyperParams {
  return {
    family: c.family,
    vocabSize: c.vocabSize,
    hiddenSize: c.hiddenSize,
    numLayers: c.numLayers,
    numHeads: c.numHeads,
    numKvHeads: c.numKvHeads,
    headDim: c.headDim,
    ffnSize: c.ffnSize,
    maxPositions: c.maxPositions,
    positionOffset: c.positionOffset,
    norm: c.norm,
    normEps: c.normEps,
    activation: c.activation,
    positions: c.positions,
    ropeTheta: c.ropeTheta,
    preNorm: c.preNorm,
    wordEmbedDim: c.wordEmbedDim,
  };
}
