// 'jobs.report': the HTML report a finished evaluation run saved in its run folder, so the UI can
// offer it as a file. The app's content policy cannot run the report's inline charts in its own
// page, so openReport shows it elsewhere: the system browser (Electron shell) or a sandboxed tab
// (the app server's /api/report/<id>), both through this check.
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ReportFile } from '../../api/contract.js';
import { ApiError } from '../api/errors.js';
import type { JobManager } from './job-manager.js';

export async function reportFile(jobs: JobManager, id: string): Promise<ReportFile> {
  const job = jobs.get(id);
  if (job.kind !== 'evaluate') throw new ApiError('bad_request', `"${job.title}" is not an evaluation, so it has no report.`);
  if (job.state !== 'done') throw new ApiError('bad_request', `"${job.title}" has not finished, so its report is not written yet.`);
  const path = job.result?.reportHtml ?? join(job.runDir, 'report.html');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new ApiError('not_found', `The report is no longer at ${path}: its run folder was moved or deleted.`);
  }
  const model = basename(job.params.modelDir.replace(/[\\/]+$/, ''));
  const safe = model.replace(/[^\w.-]+/g, '-').replace(/^[-.]+|-+$/g, '') || 'model';
  return { path, fileName: `evaluation-${safe}-${job.id}.html`, mimeType: 'text/html', text };
}
