// Job kind "convert": stage 1, stage 2 and the evaluation in one run.
import type { ConversionSummary } from '../../../api/contract.js';
import { convertSettings, runConversion, type ConvertSettings } from '../../pipeline/convert.js';
import type { JobDefinition } from '../types.js';

export const convertJob: JobDefinition<ConvertSettings, ConversionSummary> = {
  kind: 'convert',
  run: (settings, ctx) => runConversion(convertSettings.parse(settings), ctx),
};

export default convertJob;
