// Job kind "calibrate": FAS stage 2, the coarse-to-fine calibration of a stage-1 model's IF neurons
// against its QCFS teacher, writing a calibrated spiking folder and a per-layer report.
import { loadNative } from '../../../../native/index.js';
import { runCalibration } from '../../calibration/run-calibration.js';
import type { CalibrationReport } from '../../calibration/report.js';
import { calibrateSettings, type CalibrateSettings } from '../../calibration/settings.js';
import type { JobDefinition } from '../types.js';

export const calibrateJob: JobDefinition<CalibrateSettings, CalibrationReport> = {
  kind: 'calibrate',
  run: (settings, ctx) => runCalibration(calibrateSettings.parse(settings), ctx, loadNative()),
};

export default calibrateJob;
