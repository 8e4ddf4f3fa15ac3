// Job kind "evaluate": perplexity or a multiple-choice task, the metric against T, firing rates and
// energy; saves report.json and report.html in the run folder.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { evalSettings, runEvaluation, type EvalReport, type EvalSettings } from '../../eval/evaluate.js';
import { htmlReport } from '../../eval/html-report.js';
import type { JobDefinition } from '../types.js';

export const evaluateJob: JobDefinition<EvalSettings, EvalReport & { reportHtml: string }> = {
  kind: 'evaluate',
  async run(settings, ctx) {
    const report = await runEvaluation(evalSettings.parse(settings), ctx);
    const reportHtml = join(ctx.runDir, 'report.html');
    await writeFile(join(ctx.runDir, 'report.json'), JSON.stringify(report, null, 2));
    await writeFile(reportHtml, await htmlReport(report));
    return { ...report, reportHtml };
  },
};

export default evaluateJob;
