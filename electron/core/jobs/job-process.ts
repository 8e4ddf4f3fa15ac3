// Entry point of a job's child process. A job runs outside the app's process so that a crash or
// an out-of-memory in native code cannot take the app down, and a stuck job can be killed.
import type { FromJobProcess, JobDefinition, ToJobProcess } from './types.js';
import { JobCancelledError } from './types.js';

const controller = new AbortController();

function send(message: FromJobProcess, then: () => void = () => {}): void {
  process.send?.(message, then);
}

async function start(modulePath: string, params: unknown, runDir: string): Promise<void> {
  try {
    const mod = (await import(modulePath)) as { default: JobDefinition };
    const result = await mod.default.run(params, {
      runDir,
      signal: controller.signal,
      progress: (update) => send({ type: 'progress', update }),
      log: (message) => send({ type: 'log', message }),
    });
    finish(controller.signal.aborted ? { type: 'cancelled' } : { type: 'done', result });
  } catch (err) {
    if (err instanceof JobCancelledError || controller.signal.aborted) finish({ type: 'cancelled' });
    else finish({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
  }
}

/** Sends the final message, then exits: native worker threads must not keep the process alive. */
function finish(message: FromJobProcess): void {
  send(message, () => process.exit(0));
}

process.on('message', (message: ToJobProcess) => {
  if (message.type === 'start') void start(message.modulePath, message.params, message.runDir);
  else if (message.type === 'cancel') controller.abort();
});
