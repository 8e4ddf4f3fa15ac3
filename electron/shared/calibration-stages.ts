// The stages of a calibration run, in the order it runs them: a progress row names its stage by its
// index here (chart rows hold numbers only), so a chart reads each row's stage instead of guessing it.
export const CALIBRATION_STAGES = ['before', 'coarse', 'fine', 'joint'] as const;
export type CalibrationStageName = (typeof CALIBRATION_STAGES)[number];
