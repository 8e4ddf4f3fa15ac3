// Runs as the home of results: a run's page names its kind in words, links to its wizard's page,
// charts only the curves a person follows under their names (never step, gradNorm or etaSeconds),
// and a run that stopped shows no empty charts. A 'count' job stands in for fine-tuning.
// Needs `npm run build:core && npm run build:ui`.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppCore } from '../../electron/core/app-core.js';
import { ARTIFACTS } from './browser.js';
import { countAs, serveApp, type ServedApp, watchErrors } from './test-app.js';

describe('a run on the Runs page', () => {
  let core: AppCore;
  let app: ServedApp;
  const params = (name: string, more: object) => ({ modelDir: `/models/${name}`, outDir: join(core.workspaceDir, 'models', name), ...more });

  beforeAll(async () => {
    core = new AppCore({ workspaceDir: mkdtempSync(join(tmpdir(), 'fas-e2e-runs-results-')), jobKinds: { finetune: countAs('Fine-tune tiny with QCFS') } });
    app = await serveApp(core);
  });
  afterAll(() => app?.close());

  it('charts a running training run under human names and links to its wizard page', async () => {
    const job = await core.call('jobs.start', { kind: 'finetune', params: params('running', { steps: 400, delayMs: 100 }) });
    const page = await app.browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.setDefaultTimeout(15_000);
    const errors = watchErrors(page);
    await page.goto(`${app.server.url}#/runs/${job.id}`);
    await page.getByRole('heading', { level: 1, name: 'Fine-tune tiny with QCFS' }).waitFor();
    await page.getByText('Fine-tuning (stage 1)', { exact: true }).waitFor();
    expect(await page.getByRole('link', { name: 'Open this run on the fine-tuning (stage 1) page' }).getAttribute('href')).toBe(`#/finetune/${job.id}`);
    const charts = page.getByTestId('metric-chart');
    await charts
      .filter({ hasText: 'Training loss' })
      .locator('figcaption')
      .filter({ hasText: /latest/ })
      .waitFor();
    // While it runs, the curve still to come is there, empty.
    const titles = () => charts.locator('figcaption .name').allTextContents();
    expect(await titles()).toEqual(['Training loss', 'Validation perplexity']);
    await page.screenshot({ path: `${ARTIFACTS}runs-training-charts.png`, fullPage: true });
    await core.call('jobs.cancel', { id: job.id });
    await page.getByTestId('job-state').filter({ hasText: 'Cancelled' }).waitFor();
    // Stopped, it keeps only the curves that have points.
    await expect.poll(titles).toEqual(['Training loss']);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows a failed run with its error in words and no empty charts', async () => {
    const job = await core.call('jobs.start', { kind: 'finetune', params: params('failing', { steps: 5, fail: true }) });
    expect((await core.jobs.waitFor(job.id)).state).toBe('failed');
    const page = await app.browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.setDefaultTimeout(15_000);
    await page.goto(`${app.server.url}#/runs/${job.id}`);
    await page.getByTestId('error-box').getByText('The data ran out at step 2.').waitFor();
    const charts = page.getByTestId('metric-chart');
    await charts.first().waitFor();
    expect(await charts.count()).toBe(1);
    expect(await charts.locator('figcaption .name').textContent()).toBe('Training loss');
    await page.screenshot({ path: `${ARTIFACTS}runs-failed.png`, fullPage: true });
    await page.close();
  });
});
