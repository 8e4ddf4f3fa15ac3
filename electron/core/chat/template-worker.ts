// Renders chat templates in a worker thread, so that a template that loops for ever or builds a huge
// text (a model folder is not trusted) can be stopped from outside; see template-sandbox.ts.
import { parentPort } from 'node:worker_threads';
import { Template } from '@huggingface/jinja';
import type { TemplateJob, TemplateOutcome } from './template-sandbox.js';

// A chat renders with the same template every time: parse it once.
let parsed: { source: string; template: Template } | null = null;

function render({ source, context, maxChars }: TemplateJob): TemplateOutcome {
  try {
    if (parsed?.source !== source) parsed = { source, template: new Template(source) };
    const text = parsed.template.render(context);
    if (text.length <= maxChars) return { ok: true, text };
    return {
      ok: false,
      message: `it wrote ${text.length.toLocaleString('en-US')} characters, more than the ${maxChars.toLocaleString('en-US')} a prompt can be`,
    };
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}

parentPort!.on('message', (job: TemplateJob) => parentPort!.postMessage(render(job)));
// Loaded and listening: the time limit of a render starts now, not while the worker starts up.
parentPort!.postMessage('ready');
