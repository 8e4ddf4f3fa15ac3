// The recipes a calibration (FAS stage 2) can follow: this app's, and the FAS reference code's,
// kept so that results can be compared with the paper's. One place for what the reference recipe
// fixes, read by the calibration job, the command line and the calibrate wizard.

import type { CalibrationRecipeRecord } from '../api/contract.js';

/** Every recipe, in the order the wizard offers them; the names are the contract's. */
export const CALIBRATION_RECIPES = ['app', 'paper'] as const satisfies ReadonlyArray<CalibrationRecipeRecord['name']>;
export type CalibrationRecipe = CalibrationRecipeRecord['name'];

/**
 * As in the FAS reference code: every layer starts at theta = 0.6 lambda, v0 = 0.2 theta (no search,
 * no per-layer fine pass), then one threshold and initial potential per (position, neuron) up to the
 * block length are fitted on the whole loss, the KL summed over each sequence's positions and averaged
 * over sequences (batchmean) plus the align losses (weight 1), by Adam for a fixed number of epochs; the last
 * epoch's values are kept.
 */
export const PAPER_RECIPE = { jointEpochs: 3, jointLr: 3e-3, klReduction: 'batchmean', alignWeight: 1 } as const;

/** The settings the reference recipe fixes: a run with it does not read them. */
export const PAPER_RECIPE_FIXES = ['level', 'epochs', 'lr', 'jointEpochs', 'jointLr', 'alignWeight', 'maxPositions'] as const;

/** The choice in words, for the wizard and the report. */
export const recipeWords: Record<CalibrationRecipe, { choice: string; about: string }> = {
  app: {
    choice: "Recommended (this app's recipe)",
    about:
      'A searched start per layer, a fine pass per layer, then every layer together on the KL of the logits, keeping the best epoch. Closest to the fine-tuned model.',
  },
  paper: {
    choice: 'As in the FAS reference code (to compare with the paper)',
    about: `Starts every layer at 60 % of its threshold, then fits a value per position and neuron up to the sample length on the paper's loss for ${PAPER_RECIPE.jointEpochs} epochs.`,
  },
};
