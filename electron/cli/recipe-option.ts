// `--recipe` of `fas calibrate` and `fas convert`: the calibration recipe, and the refusal of the
// flags the FAS reference recipe sets itself (shared/calibration-recipes PAPER_RECIPE_FIXES).
import { Option } from 'commander';
import { CALIBRATION_RECIPES, PAPER_RECIPE, PAPER_RECIPE_FIXES, type CalibrationRecipe } from '../shared/calibration-recipes.js';

/** The options the reference recipe fixes, by their flags. */
const PAPER_FLAGS = {
  level: '--level',
  epochs: '--epochs',
  lr: '--lr',
  jointEpochs: '--joint-epochs',
  jointLr: '--joint-lr',
  alignWeight: '--align-weight',
  maxPositions: '--max-positions',
} as const satisfies Record<(typeof PAPER_RECIPE_FIXES)[number], string>;

export function recipeOption(): Option {
  return new Option(
    '--recipe <recipe>',
    `calibration recipe: "app" (the default), this app's; "paper", as in the FAS reference code, to compare with the paper (start at theta = 0.6 lambda, v0 = 0.2 theta, then per (position, neuron) on the batchmean KL + align losses, Adam ${PAPER_RECIPE.jointLr} for ${PAPER_RECIPE.jointEpochs} epochs)`,
  ).choices(CALIBRATION_RECIPES);
}

/** Throws when `--recipe paper` comes with a flag that recipe sets itself. */
export function refuseFlagsPaperSets(recipe: CalibrationRecipe | undefined, options: Partial<Record<keyof typeof PAPER_FLAGS, unknown>>): void {
  if (recipe !== 'paper') return;
  const fixed = Object.entries(PAPER_FLAGS).flatMap(([key, flag]) => (options[key as keyof typeof PAPER_FLAGS] !== undefined ? [flag] : []));
  if (fixed.length > 0) {
    throw new Error(`--recipe paper sets ${fixed.join(', ')} itself, as the FAS reference code does; leave ${fixed.length === 1 ? 'it' : 'them'} out.`);
  }
}
