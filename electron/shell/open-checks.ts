// What the Electron shell lets the page open outside the window, decided in plain Node so it is
// tested directly: a web link only over https and only after the user agrees, and a report only
// when it is the run's own report.html inside the workspace (a job record naming another file,
// say an .exe or a page elsewhere, is refused).
import { realpath } from 'node:fs/promises';
import path from 'node:path';

/** The links the app's pages may hand to the system browser. */
export function isOpenableLink(url: string): boolean {
  try {
    return new URL(url).protocol === 'https:';
  } catch {
    return false;
  }
}

/** Opens an https link after `confirm` says yes; resolves true when it was opened. */
export async function openLinkWithConsent(url: string, confirm: (url: string) => Promise<boolean>, open: (url: string) => Promise<void>): Promise<boolean> {
  if (!isOpenableLink(url) || !(await confirm(url))) return false;
  await open(url);
  return true;
}

/**
 * Null when `reportPath` is the run's own report.html (links resolved) and the run folder is inside
 * the workspace; otherwise the reason it is refused, in words.
 */
export async function reportPathProblem(reportPath: string, runDir: string, workspaceDir: string): Promise<string | null> {
  const real = (p: string) => realpath(p).catch(() => null);
  const [report, run, workspace] = await Promise.all([real(reportPath), real(runDir), real(workspaceDir)]);
  if (!report || !run || !workspace) return `The report is no longer at ${reportPath}.`;
  if (!run.startsWith(workspace + path.sep)) return `The run folder ${runDir} is not inside the app's workspace, so its report is not opened.`;
  if (report !== path.join(run, 'report.html')) return `${reportPath} is not the run's own report.html, so it is not opened.`;
  return null;
}
