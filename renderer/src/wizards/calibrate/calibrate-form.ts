// The calibration wizard's settings (FAS stage 2): their defaults and bounds (from the 'calibrate' job
// kind's schema, via 'jobs.defaults' and 'jobs.limits'), what makes them unusable, the job parameters they become, and the
// live per-layer align errors and joint-pass KL read back from the run's reported metrics.
// With .js extensions, as the tests type-check this module under Node's module resolution too.
import type { ModelEntry, NumberLimits } from '../../../../electron/api/contract.js';
import { limitProblem, withinLimits } from '../limits.js';
import { stageOutDir, type TakenNames } from '../output-folder.js';
import { CALIBRATION_STAGES, type CalibrationStageName } from '../../../../electron/shared/calibration-stages.js';
import { CALIBRATION_RECIPES, PAPER_RECIPE_FIXES, type CalibrationRecipe } from '../../../../electron/shared/calibration-recipes.js';

export type CalibrationLevel = 'layer' | 'neuron';

export interface CalibrateSettings {
  /** This app's recipe, or the FAS reference code's (which fixes the level and the fine and joint passes' settings). */
  recipe: CalibrationRecipe;
  /** Timesteps T of the spiking model. */
  timesteps: number;
  level: CalibrationLevel;
  /** Calibration sequences. */
  samples: number;
  blockSize: number;
  batchSize: number;
  /** Fine pass only: epochs per layer. */
  epochs: number;
  /** Fine pass only. */
  lr: number;
  /** Joint pass only: epochs with every layer at once; 0 skips the pass. */
  jointEpochs: number;
  /** Joint pass only. */
  jointLr: number;
  /** Joint pass only: weight of the summed align losses next to the KL of the logits. */
  alignWeight: number;
  seed: number;
  /** Fine pass only: per-(position, neuron) values for the first positions; null = one value per neuron. */
  maxPositions: number | null;
  /** Most text read, in megabytes; null = all of it. */
  maxDataMegabytes: number | null;
}

const LEVELS: readonly CalibrationLevel[] = ['layer', 'neuron'];

/** The most text to read is set in megabytes, a unit the job's schema does not have (it takes bytes): any amount above 0. */
export const MEGABYTE_LIMITS: NumberLimits = { min: 0, above: true, max: null, whole: false };

/** The settings a 'calibrate' job uses when given none ('jobs.defaults' result). */
export function settingsFromDefaults(d: Record<string, unknown>): CalibrateSettings {
  const n = (key: string) => d[key] as number;
  return {
    recipe: CALIBRATION_RECIPES.includes(d.recipe as CalibrationRecipe) ? (d.recipe as CalibrationRecipe) : 'app',
    timesteps: n('timesteps'),
    level: LEVELS.includes(d.level as CalibrationLevel) ? (d.level as CalibrationLevel) : 'neuron',
    samples: n('samples'),
    blockSize: n('blockSize'),
    batchSize: n('batchSize'),
    epochs: n('epochs'),
    lr: n('lr'),
    jointEpochs: n('jointEpochs'),
    jointLr: n('jointLr'),
    alignWeight: n('alignWeight'),
    seed: n('seed'),
    maxPositions: typeof d.maxPositions === 'number' ? d.maxPositions : null,
    maxDataMegabytes: typeof d.maxDataBytes === 'number' ? d.maxDataBytes / 1e6 : null,
  };
}

/** A saved preset over the current settings: only the settings it knows, with the right types. */
export function withPreset(current: CalibrateSettings, values: Record<string, unknown>): CalibrateSettings {
  const next = { ...current };
  for (const key of Object.keys(current) as Array<keyof CalibrateSettings>) {
    const value = values[key];
    if (key === 'level') {
      if (LEVELS.includes(value as CalibrationLevel)) next.level = value as CalibrationLevel;
    } else if (key === 'recipe') {
      if (CALIBRATION_RECIPES.includes(value as CalibrationRecipe)) next.recipe = value as CalibrationRecipe;
    } else if (key === 'maxPositions' || key === 'maxDataMegabytes') {
      if (value === null || (typeof value === 'number' && Number.isFinite(value))) next[key] = value;
    } else if (typeof value === 'number' && Number.isFinite(value)) {
      next[key] = value;
    }
  }
  return next;
}

type NumberKey = Exclude<keyof CalibrateSettings, 'recipe' | 'level' | 'maxPositions' | 'maxDataMegabytes'>;

/** The numeric settings, in the order they are checked, by the names the checks use, with what a value means where it helps. */
const NAMES: Array<[key: NumberKey, name: string, note?: string]> = [
  ['timesteps', 'T'],
  ['samples', 'The number of calibration samples'],
  ['blockSize', 'The block size'],
  ['batchSize', 'The batch size'],
  ['epochs', 'The fine pass epochs'],
  ['lr', 'The fine pass learning rate'],
  ['jointEpochs', 'The joint pass epochs', '0 skips the joint pass'],
  ['jointLr', 'The joint pass learning rate'],
  ['alignWeight', 'The align loss weight'],
  ['seed', 'The seed'],
];

const whole = (min: number) => (v: number) => Number.isInteger(v) && v >= min;

/**
 * Settings of the per-neuron passes (fine and joint): ignored when tuning per layer, so neither
 * checked (their fields are disabled then, and could not be fixed) nor sent to the job.
 */
const PER_NEURON: ReadonlySet<keyof CalibrateSettings> = new Set(['epochs', 'lr', 'maxPositions', 'jointEpochs', 'jointLr', 'alignWeight']);

/** The FAS reference code's recipe sets these itself: their fields are disabled then, and they are neither checked nor sent. */
const PAPER_FIXED: ReadonlySet<keyof CalibrateSettings> = new Set(PAPER_RECIPE_FIXES);

/** Whether a setting is left out (unchecked and unsent) under these settings. */
export function unused(s: Pick<CalibrateSettings, 'recipe' | 'level'>, key: keyof CalibrateSettings): boolean {
  if (s.recipe === 'paper') return PAPER_FIXED.has(key);
  return s.level === 'layer' && PER_NEURON.has(key);
}

/** Why the settings cannot be used, in words; null when they can. `limits`: the 'calibrate' job's bounds ('jobs.limits'). */
export function settingsProblem(s: CalibrateSettings, contextLength: number, limits: Record<string, NumberLimits>): string | null {
  for (const [key, name, note] of NAMES) {
    if (unused(s, key)) continue;
    const problem = limitProblem(name, s[key], limits[key]);
    if (problem) return note ? `${problem.slice(0, -1)} (${note}).` : problem;
  }
  if (s.blockSize > contextLength) return `The block size can be at most ${contextLength}, the model's context length.`;
  if (!unused(s, 'maxPositions') && s.maxPositions !== null && !whole(1)(s.maxPositions)) {
    return 'The per-position max length must be a whole number of tokens, at least 1 (or leave it empty).';
  }
  if (s.maxDataMegabytes !== null && !withinLimits(s.maxDataMegabytes, MEGABYTE_LIMITS))
    return 'The most text to read must be above 0 MB (or leave the field empty to read all of it).';
  return null;
}

/** A model that spikes at every layer (scope 'all'): the spiking network equals the fine-tuned one at T = L, so calibrating only writes it at T. */
export function spikesEverywhere(model: Pick<ModelEntry, 'spiking'>): boolean {
  return model.spiking?.scope === 'all';
}

/** How many positions the run fits its own value per neuron for: the block with the reference recipe, maxPositions per neuron, else 1 (the estimate caps it at the block). */
export function neuronPositions(s: Pick<CalibrateSettings, 'recipe' | 'level' | 'maxPositions' | 'blockSize'>): number {
  if (s.recipe === 'paper') return s.blockSize;
  return s.level === 'neuron' && s.maxPositions !== null ? s.maxPositions : 1;
}

/** workspace/models/<short model name> · stage 2, named after the original model (not "… · stage 1 · stage 2"). */
export function defaultOutDir(workspaceDir: string, modelName: string, taken: TakenNames): string {
  return stageOutDir(workspaceDir, modelName, 2, taken);
}

/**
 * The 'calibrate' job's parameters: the per-neuron ones only when tuning per neuron, none that the
 * reference recipe fixes when following it, and the optional ones only when set.
 */
export function calibrateParams(s: CalibrateSettings, paths: { modelDir: string; dataPath?: string; outDir: string }): Record<string, unknown> {
  const { maxDataMegabytes, ...rest } = s;
  const used = Object.entries(rest).filter(([key, value]) => value !== null && !unused(s, key as keyof CalibrateSettings));
  return {
    ...paths,
    ...Object.fromEntries(used),
    ...(maxDataMegabytes !== null ? { maxDataBytes: Math.max(1, Math.round(maxDataMegabytes * 1e6)) } : {}),
  };
}

/** The stages that fit the layers one by one, each with an align error per layer. */
export const LAYER_STAGES = ['before', 'coarse', 'fine'] as const satisfies readonly CalibrationStage[];
export type LayerStage = (typeof LAYER_STAGES)[number];
/** Every stage, each measured on the held-out text: the per-layer ones, then the joint pass over every layer at once. */
export const STAGES = CALIBRATION_STAGES;
export type CalibrationStage = CalibrationStageName;

export const stageLabels: Record<CalibrationStage, string> = {
  before: 'Before calibration',
  coarse: 'After the coarse pass',
  fine: 'After the fine pass',
  joint: 'After the joint pass',
};

/** The theme colour of each stage in the charts. */
export const stageColors: Record<CalibrationStage, string> = { before: '--muted', coarse: '--accent', fine: '--ok', joint: '--warn' };

/** Errors and KLs span orders of magnitude: one notation for all of them, so a column compares at a glance. */
export const scientific = (v: number) => (v === 0 ? '0' : v.toExponential(2));

/** The per-layer stages a run goes through: per layer, and the reference recipe, have no fine pass. */
export function layerStagesOf(level: CalibrationLevel, recipe: CalibrationRecipe = 'app'): LayerStage[] {
  return level === 'neuron' && recipe === 'app' ? [...LAYER_STAGES] : ['before', 'coarse'];
}

/**
 * The align error of each layer at each stage, from the rows a calibration run reported (each
 * {stage, layer, alignLoss?}, the stage as its index in CALIBRATION_STAGES): the last loss of a layer
 * in a stage is its result there, so a layer done again after a resume replaces its first try. Rows
 * of runs recorded before rows said their stage are read by their order: a stage visits the layers in
 * order and reports a row without a loss when it starts one, so a start row for layer 0 opens the next.
 */
export function liveAlignErrors(rows: Array<Record<string, number>>, layers: number): Record<LayerStage, Array<number | null>> {
  const errors = Object.fromEntries(LAYER_STAGES.map((s) => [s, Array<number | null>(layers).fill(null)])) as Record<LayerStage, Array<number | null>>;
  let byOrder = -1;
  for (const row of rows) {
    const layer = row.layer;
    if (layer === undefined || !Number.isInteger(layer) || layer < 0 || layer >= layers) continue;
    if (row.stage === undefined && row.alignLoss === undefined && layer === 0) byOrder += 1;
    const name = CALIBRATION_STAGES[row.stage ?? Math.max(byOrder, 0)];
    if (row.alignLoss !== undefined && Number.isFinite(row.alignLoss) && name !== undefined && name !== 'joint') errors[name][layer] = row.alignLoss;
  }
  return errors;
}

/**
 * The KL of the logits on the calibration text after each epoch of the joint pass, from the rows a
 * run reported: the joint pass's epoch rows are the only ones with a `kl` (and no layer), each with
 * its `epoch`. A joint pass stopped half way starts again on resume: its epochs replace the first try's.
 */
export function liveJointKl(rows: Array<Record<string, number>>): number[] {
  const kl: number[] = [];
  for (const row of rows) {
    if (row.layer !== undefined || row.kl === undefined || !Number.isFinite(row.kl)) continue;
    if (row.epoch === undefined) kl.push(row.kl);
    else kl.splice(row.epoch - 1, kl.length, row.kl);
  }
  return kl;
}
