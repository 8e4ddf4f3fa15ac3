// Job kind "evaluate": perplexity or a multiple-choice task, the metric against T, firing rates and
// energy; saves report.json and report.html in the run folder.
import { join } from 'node:path';
import { evalSettings, runEvaluation, type EvalReport, type EvalSettings } from '../../eval/evaluate.js';
import { htmlReport } from '../../eval/html-report.js';
import { writeFileAtomic, writeJsonAtomic } from '../../storage/json-file.js';
import type { JobDefinition } from '../types.js';

export const evaluateJob: JobDefinition<EvalSettings, EvalReport & { reportHtml: string }> = {
  kind: 'evaluate',
  async run(settings, ctx) {
    const report = await runEvaluation(evalSettings.parse(settings), ctx);
    const reportHtml = join(ctx.runDir, 'report.html');
    await writeJsonAtomic(join(ctx.runDir, 'report.json'), report);
    await writeFileAtomic(reportHtml, await htmlReport(report));
    return { ...report, reportHtml };
  },
};

export default evaluateJob;
