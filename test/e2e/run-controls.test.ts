// Progress updates a run's page in place: the Pause and Cancel buttons a person aims at are the same
// elements from the first progress event to the last, so a click never lands on a button that is
// being replaced. A 'count' job stands in for fine-tuning (registered under the finetune kind), so the
// fine-tuning run page shows it with its Pause button while it reports progress at a steady pace.
// Needs `npm run build:core && npm run build:ui`.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppCore } from '../../electron/core/app-core.js';
import { ARTIFACTS } from './browser.js';
import { countAs, serveApp, type ServedApp, watchErrors } from './test-app.js';

describe('run controls while progress arrives', () => {
  let core: AppCore;
  let app: ServedApp;

  beforeAll(async () => {
    core = new AppCore({ workspaceDir: mkdtempSync(join(tmpdir(), 'fas-e2e-controls-')), jobKinds: { finetune: countAs('Fine-tune the counting model') } });
    app = await serveApp(core);
  });
  afterAll(() => app?.close());

  it('keeps the same Pause and Cancel buttons from queued through many progress events, and Pause works', async () => {
    const page = await app.browser.newPage({ viewport: { width: 1100, height: 800 } });
    page.setDefaultTimeout(15_000);
    const errors = watchErrors(page);
    await page.goto(`${app.server.url}#/finetune`);
    await page.getByRole('heading', { name: 'Fine-tune a model (stage 1)' }).waitFor();

    // One job at a time: the first holds the second in the queue until the test cancels it. Both are long
    // enough (400 steps of 100 ms) that the test, not the job, decides when they stop.
    const params = (name: string) => ({ steps: 400, delayMs: 100, modelDir: `/models/${name}`, outDir: join(core.workspaceDir, 'models', name) });
    const first = await core.call('jobs.start', { kind: 'finetune', params: params('first') });
    const job = await core.call('jobs.start', { kind: 'finetune', params: params('second') });
    await page.goto(`${app.server.url}#/finetune/${job.id}`);
    await page.getByTestId('job-state').filter({ hasText: 'Waiting' }).waitFor();
    const pause = page.getByRole('button', { name: 'Pause', exact: true });
    expect(await pause.isDisabled()).toBe(true);
    const handles = { pause: await pause.elementHandle(), cancel: await page.getByRole('button', { name: 'Cancel', exact: true }).elementHandle() };

    await core.call('jobs.cancel', { id: first.id });
    await page.getByTestId('job-state').filter({ hasText: 'Running' }).waitFor();
    const percent = async () => Number(((await page.getByTestId('percent').textContent()) ?? '').replace('%', ''));
    await page
      .getByTestId('percent')
      .filter({ hasText: /^[1-9]/ })
      .waitFor();
    const from = await percent();

    // Wait for several progress events to be drawn (the percentage moves 4 points: 16 events).
    await page.waitForFunction((from) => Number(document.querySelector('[data-testid=percent]')?.textContent?.replace('%', '')) >= from + 4, from);
    for (const [name, handle] of Object.entries(handles)) {
      const sameElement = await page.evaluate(
        ([element, label]) => element!.isConnected && [...document.querySelectorAll('button')].find((b) => b.textContent?.trim() === label) === element,
        [handle, name === 'pause' ? 'Pause' : 'Cancel'] as const,
      );
      expect(sameElement, `${name} button kept in place`).toBe(true);
    }
    await page.screenshot({ path: join(ARTIFACTS, 'run-controls-running.png') });

    // The click lands on that same element and pauses the run.
    await handles.pause!.click();
    await page.getByTestId('job-state').filter({ hasText: 'Paused' }).waitFor();
    expect((await core.call('jobs.get', { id: job.id })).state).toBe('paused');

    // A paused run waits among the unfinished runs until it is resumed, or cancelled: it keeps its
    // checkpoint then, so it could still be resumed from Runs.
    await page.goto(`${app.server.url}#/finetune`);
    const unfinished = page.getByRole('region', { name: 'Unfinished runs' });
    await unfinished.getByText('Paused').waitFor();
    await page.goto(`${app.server.url}#/finetune/${job.id}`);
    const resume = page.getByTestId('resume');
    await resume.getByRole('button', { name: /^Resume from step \d+$/ }).waitFor();
    await resume.getByRole('button', { name: 'Cancel', exact: true }).click();
    await expect(resume.getByRole('group').textContent()).resolves.toContain('its checkpoint is kept, so Runs can still resume it');
    await resume.getByRole('button', { name: 'Cancel it' }).click();
    await page.getByTestId('job-state').filter({ hasText: 'Cancelled' }).waitFor();
    expect((await core.call('jobs.get', { id: job.id })).message).toBe('Cancelled while paused');
    await resume.getByRole('button', { name: /^Resume from step \d+$/ }).waitFor();
    // The same page (a hash change): the list of runs it reads is loaded already.
    await page.goto(`${app.server.url}#/finetune`);
    await page.getByRole('heading', { name: 'Fine-tune a model (stage 1)' }).waitFor();
    expect(await page.getByRole('region', { name: 'Unfinished runs' }).count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
