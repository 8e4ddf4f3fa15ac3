import type { ModelConfig } from '../config.js';

/** One canonical tensor and where a Hugging Face checkpoint keeps it. */
export interface PlannedTensor {
  canonical: string;
  /** Name relative to the family's prefix (e.g. "layers.0.fc1.weight"). */
  hfName: string;
  /** Shape as stored in the file. */
  shape: number[];
  transposed?: boolean;
  split?: { index: number; parts: number };
}

/** How one family names its tensors. The output head ("lm_head.weight") is shared by all. */
export interface FamilyLayout {
  /** Prefixes seen in the wild, tried in order. */
  prefixes: readonly string[];
  /** A tensor every checkpoint of the family has, used to find the prefix. */
  probe: string;
  /** Buffers that checkpoints sometimes store and that carry no weights (relative names). */
  buffers: RegExp | null;
  tensors(config: ModelConfig): PlannedTensor[];
}

/** weight + bias of a layer norm or a linear layer, with the same flags. */
export function withBias(
  canonical: string,
  hfName: string,
  weightShape: number[],
  biasShape: number[],
  hasBias: boolean,
  flags: Pick<PlannedTensor, 'transposed'> = {},
): PlannedTensor[] {
  const weight: PlannedTensor = { canonical: `${canonical}.weight`, hfName: `${hfName}.weight`, shape: weightShape, ...flags };
  if (!hasBias) return [weight];
  return [weight, { canonical: `${canonical}.bias`, hfName: `${hfName}.bias`, shape: biasShape }];
}
