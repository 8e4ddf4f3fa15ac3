// Runs a job in the CLI's own process, drawing its progress on the terminal. Ctrl+C asks the job to
// stop (it saves what it can, e.g. a training checkpoint); a second Ctrl+C quits at once.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobCancelledError, type JobContext, type JobDefinition, type JobProgressUpdate } from '../core/jobs/types.js';

/** The job's run folder is a scratch folder, removed when it ends: what a job keeps, it writes to the folders its settings name. */
export async function runJobInTerminal<P, R>(job: JobDefinition<P, R>, params: P, options: { quiet?: boolean } = {}): Promise<R> {
  const controller = new AbortController();
  const onInterrupt = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\nStopping after the current step (Ctrl+C again to quit at once)…\n');
    controller.abort();
  };
  process.on('SIGINT', onInterrupt);
  const tty = process.stderr.isTTY === true;
  let lastLine = 0;
  // The job's own estimate (from the pace of its current stage); an update that does not say keeps the last.
  let etaSeconds: number | null = null;
  const runDir = await mkdtemp(join(tmpdir(), `fas-${job.kind}-`));
  const ctx: JobContext = {
    runDir,
    signal: controller.signal,
    progress: (update) => {
      if (update.etaSeconds !== undefined) etaSeconds = update.etaSeconds;
      if (options.quiet) return;
      const now = Date.now();
      // On a terminal the bar redraws in place; in a log, one line every 2 s at most (and the last).
      if (!tty && now - lastLine < 2000 && update.fraction !== 1) return;
      lastLine = now;
      const line = progressLine(update, etaSeconds);
      process.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
    },
    log: (message) => {
      if (!options.quiet) process.stderr.write(`${tty ? '\r\x1b[2K' : ''}${message}\n`);
    },
  };
  try {
    return await job.run(params, ctx);
  } catch (err) {
    if (err instanceof JobCancelledError) throw new Error('Stopped. What was saved is kept; run again with --resume to continue.', { cause: err });
    throw err;
  } finally {
    if (tty && !options.quiet) process.stderr.write('\n');
    process.off('SIGINT', onInterrupt);
    await rm(runDir, { recursive: true, force: true });
  }
}

function progressLine(update: JobProgressUpdate, eta: number | null): string {
  if (update.fraction === null) return update.message;
  const width = 24;
  const filled = Math.round(update.fraction * width);
  const etaText = eta === null ? '' : `  ${formatDuration(eta)} left`;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(update.fraction * 100).toFixed(0).padStart(3)}%  ${update.message}${etaText}`;
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}
