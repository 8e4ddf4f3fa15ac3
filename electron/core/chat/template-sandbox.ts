// Chat templates come with model folders, which are not trusted: Jinja can loop (nested
// range(100000000)) or build texts of any size. Renders run in a worker thread with a time limit, a
// heap limit and a limit on the text returned, so a hostile template fails with a message instead of
// freezing or exhausting the app. The worker is kept between renders (starting one costs far more
// than a render) and replaced after it had to be stopped.
import { Worker } from 'node:worker_threads';
import { compiledPath } from '../compiled-path.js';

export const TEMPLATE_LIMITS = {
  /** Real templates render in about a millisecond. */
  timeMs: 2000,
  /** Far more than any context window holds. */
  maxChars: 4_000_000,
  heapMb: 256,
} as const;

export interface TemplateJob {
  source: string;
  context: Record<string, unknown>;
  maxChars: number;
}

export type TemplateOutcome = { ok: true; text: string } | { ok: false; message: string };

interface TemplateWorker {
  worker: Worker;
  /** Resolves once the worker has loaded and listens; rejects when it could not start. */
  ready: Promise<void>;
}

let current: TemplateWorker | null = null;
/** Renders run one at a time: each waits for the one before. */
let queue: Promise<unknown> = Promise.resolve();

/** Renders `source` with `context`; rejects with a plain Error whose message says what went wrong. */
export function renderTemplate(
  source: string,
  context: Record<string, unknown>,
  limits: { timeMs: number; maxChars: number } = TEMPLATE_LIMITS,
): Promise<string> {
  const run = queue.then(() => renderInWorker({ source, context, maxChars: limits.maxChars }, limits.timeMs));
  queue = run.catch(() => undefined);
  return run;
}

function startWorker(): TemplateWorker {
  const worker = new Worker(compiledPath('./template-worker.js', import.meta.url), { resourceLimits: { maxOldGenerationSizeMb: TEMPLATE_LIMITS.heapMb } });
  // An idle worker must not keep a CLI process alive; one that ended is replaced at the next render.
  worker.unref();
  // A worker stopped for its time limit can still report running out of memory while it is being
  // terminated, after its render was refused: that late error needs a listener, or it is unhandled.
  worker.on('error', () => {});
  worker.once('exit', () => {
    if (current?.worker === worker) current = null;
  });
  const ready = new Promise<void>((resolve, reject) => {
    const onExit = () => reject(new Error('the chat template renderer could not start'));
    worker.once('error', reject).once('exit', onExit);
    worker.once('message', () => {
      worker.off('error', reject).off('exit', onExit);
      resolve();
    });
  });
  return { worker, ready };
}

async function renderInWorker(job: TemplateJob, timeMs: number): Promise<string> {
  const started = (current ??= startWorker());
  try {
    await started.ready;
  } catch (err) {
    if (current === started) current = null;
    throw err;
  }
  const { worker } = started;
  return new Promise<string>((resolve, reject) => {
    const stop = (message: string) => {
      cleanUp();
      if (current === started) current = null;
      void worker.terminate();
      reject(new Error(message));
    };
    const timer = setTimeout(() => stop(`the chat template did not finish within ${timeMs / 1000} s`), timeMs);
    const onMessage = (outcome: TemplateOutcome) => {
      cleanUp();
      if (outcome.ok) resolve(outcome.text);
      else reject(new Error(outcome.message));
    };
    const onError = (err: Error & { code?: string }) =>
      stop(err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `the chat template needed more than ${TEMPLATE_LIMITS.heapMb} MB to render` : err.message);
    const onExit = () => stop('the chat template stopped without a result');
    const cleanUp = () => {
      clearTimeout(timer);
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
    };
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    worker.postMessage(job);
  });
}
