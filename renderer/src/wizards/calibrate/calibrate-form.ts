// The calibration wizard's settings (FAS stage 2): their defaults (from the 'calibrate' job kind's
// schema, via 'jobs.defaults'), what makes them unusable, the job parameters they become, and the
// live per-layer align errors and joint-pass KL read back from the run's reported metrics.
// With .js extensions, as the tests type-check this module under Node's module resolution too.
import { CALIBRATION_RECIPES, PAPER_RECIPE_FIXES, type CalibrationRecipe } from '../../../../electron/shared/calibration-recipes.js';
import { stageOutDir } from '../output-folder.js';

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
type Rule = [key: NumberKey, name: string, ok: (v: number) => boolean, need: string];

const whole = (min: number) => (v: number) => Number.isInteger(v) && v >= min;

const RULES: Rule[] = [
  ['timesteps', 'T', (v) => whole(1)(v) && v <= 1024, 'a whole number from 1 to 1024'],
  ['samples', 'The number of calibration samples', (v) => whole(1)(v) && v <= 100_000, 'a whole number from 1 to 100,000'],
  ['blockSize', 'The block size', whole(2), 'a whole number of at least 2'],
  ['batchSize', 'The batch size', (v) => whole(1)(v) && v <= 4096, 'a whole number from 1 to 4096'],
  ['epochs', 'The fine pass epochs', (v) => whole(1)(v) && v <= 1000, 'a whole number from 1 to 1000'],
  ['lr', 'The fine pass learning rate', (v) => v > 0 && v <= 1, 'a number above 0, at most 1'],
  ['jointEpochs', 'The joint pass epochs', (v) => whole(0)(v) && v <= 1000, 'a whole number from 0 to 1000 (0 skips the joint pass)'],
  ['jointLr', 'The joint pass learning rate', (v) => v > 0 && v <= 1, 'a number above 0, at most 1'],
  ['alignWeight', 'The align loss weight', (v) => v >= 0 && v <= 1e6, 'a number from 0 to 1,000,000'],
  ['seed', 'The seed', whole(0), 'a whole number, 0 or more'],
];

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

/** Why the settings cannot be used, in words; null when they can. */
export function settingsProblem(s: CalibrateSettings, contextLength: number): string | null {
  for (const [key, name, ok, need] of RULES) {
    if (unused(s, key)) continue;
    const value = s[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) return `${name} must be ${need}.`;
  }
  if (s.blockSize > contextLength) return `The block size can be at most ${contextLength}, the model's context length.`;
  if (!unused(s, 'maxPositions') && s.maxPositions !== null && !whole(1)(s.maxPositions)) {
    return 'The per-position max length must be a whole number of tokens, at least 1 (or leave it empty).';
  }
  if (s.maxDataMegabytes !== null && !(s.maxDataMegabytes > 0)) return 'The most text to read must be above 0 MB (or leave the field empty to read all of it).';
  return null;
}

/** The model's name without the "-stage1-<date>" the fine-tuning wizard gave its folder. */
export function baseModelName(name: string): string {
  return name.replace(/-stage1(-\d{4}-\d{2}-\d{2}-\d{4})?$/, '');
}

/** workspace/models/<model name>-stage2-<date and time>, in the workspace's own path style. */
export function defaultOutDir(workspaceDir: string, modelName: string, now: Date): string {
  return stageOutDir(workspaceDir, baseModelName(modelName), 'stage2', now);
}

/**
 * The 'calibrate' job's parameters: the per-neuron ones only when tuning per neuron, none that the
 * reference recipe fixes when following it, and the optional ones only when set.
 */
export function calibrateParams(s: CalibrateSettings, paths: { modelDir: string; dataPath: string; outDir: string }): Record<string, unknown> {
  const { maxDataMegabytes, ...rest } = s;
  const used = Object.entries(rest).filter(([key, value]) => value !== null && !unused(s, key as keyof CalibrateSettings));
  return {
    ...paths,
    ...Object.fromEntries(used),
    ...(maxDataMegabytes !== null ? { maxDataBytes: Math.max(1, Math.round(maxDataMegabytes * 1e6)) } : {}),
  };
}

/** The stages that fit the layers one by one, each with an align error per layer. */
export const LAYER_STAGES = ['before', 'coarse', 'fine'] as const;
export type LayerStage = (typeof LAYER_STAGES)[number];
/** Every stage, each measured on the held-out text: the per-layer ones, then the joint pass over every layer at once. */
export const STAGES = [...LAYER_STAGES, 'joint'] as const;
export type CalibrationStage = (typeof STAGES)[number];

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
 * {layer, alignLoss?, etaSeconds?}): a stage visits the layers in order and reports a row without
 * a loss when it starts a layer, so a start row for layer 0 opens the next stage; the last loss
 * of a layer in a stage is its result there. (A run that resumed mid-stage cannot be read this way.)
 */
export function liveAlignErrors(rows: Array<Record<string, number>>, layers: number): Record<LayerStage, Array<number | null>> {
  const errors = Object.fromEntries(LAYER_STAGES.map((s) => [s, Array<number | null>(layers).fill(null)])) as Record<LayerStage, Array<number | null>>;
  let stage = -1;
  for (const row of rows) {
    const layer = row.layer;
    if (layer === undefined || !Number.isInteger(layer) || layer < 0 || layer >= layers) continue;
    if (row.alignLoss === undefined) {
      if (layer === 0) stage += 1;
      continue;
    }
    const name = LAYER_STAGES[Math.max(stage, 0)];
    if (name && Number.isFinite(row.alignLoss)) errors[name][layer] = row.alignLoss;
  }
  return errors;
}

/**
 * The KL of the logits on the calibration text after each epoch of the joint pass, from the rows a
 * run reported: the joint pass's epoch rows are the only ones with a `kl` (and no layer). A joint
 * pass cancelled half way starts again on resume, so a resumed run lists the first try's epochs too.
 */
export function liveJointKl(rows: Array<Record<string, number>>): number[] {
  return rows.flatMap((row) => (row.layer === undefined && row.kl !== undefined && Number.isFinite(row.kl) ? [row.kl] : []));
}
