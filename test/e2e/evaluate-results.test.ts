// The evaluation wizard in headless Chromium: a multiple-choice task on a tiny stage-1 GPT-2 against
// the real core and engine (accuracy, chance, every mode), what it offers for an original model, and
// the results of a run whose spiking model collapses at small T, with its warnings shown first.
// Needs `npm run build:core && npm run build:ui`.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../electron/api/contract.js';
import { AppCore } from '../../electron/core/app-core.js';
import type { EvalReport } from '../../electron/core/eval/evaluate.js';
import { evalSettings } from '../../electron/core/eval/evaluate.js';
import { jobKinds } from '../../electron/core/jobs/kinds.js';
import { writeTinyModel } from '../helpers/tiny-models.js';
import { ARTIFACTS } from './browser.js';
import { serveApp, type ServedApp, watchErrors } from './test-app.js';

const TEXT = 'The whale swam on. The sea was calm and grey. Ishmael watched the whale from the deck.\n\n'.repeat(60);
const settle = (page: Page) => page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));

describe('evaluation wizard and results', () => {
  const temp = mkdtempSync(join(tmpdir(), 'fas-e2e-evaluate-'));
  let core: AppCore;
  let app: ServedApp;
  let original: ModelEntry;

  beforeAll(async () => {
    await writeTinyModel(join(temp, 'tiny-gpt2'), 'gpt2');
    writeFileSync(join(temp, 'whale.txt'), TEXT);
    core = new AppCore({ workspaceDir: join(temp, 'workspace') });
    original = await core.call('models.open', { path: join(temp, 'tiny-gpt2') });
    app = await serveApp(core);
  });
  afterAll(() => app?.close());

  it('lists the shipped tasks and refuses a report for a run that is not an evaluation', async () => {
    const tasks = await core.call('eval.tasks', {});
    expect(tasks.map((t) => [t.name, t.kind])).toEqual([
      ['ppl', 'perplexity'],
      ['moby-next-sentence', 'multiple-choice'],
      ['moby-last-word', 'multiple-choice'],
    ]);
    const outDir = join(temp, 'workspace', 'models', 'tiny-stage1');
    const job = await core.call('jobs.start', {
      kind: 'finetune',
      params: { modelDir: original.path, dataPath: join(temp, 'whale.txt'), outDir, steps: 2, batchSize: 2, blockSize: 16, valEvery: 2 },
    });
    expect((await core.jobs.waitFor(job.id)).state).toBe('done');
    await expect(core.call('jobs.report', { id: job.id })).rejects.toThrow(/is not an evaluation, so it has no report/);
  });

  it('measures a stage-1 model on a multiple-choice task at two T, with chance as a reference', async () => {
    const page = await app.browser.newPage({ viewport: { width: 1000, height: 900 } });
    page.setDefaultTimeout(15_000);
    const errors = watchErrors(page);
    const next = page.getByRole('button', { name: 'Next' });
    await page.goto(`${app.server.url}#/evaluate`);

    // An original model is measured once: no T to choose.
    await page.getByRole('radio', { name: /tiny-gpt2/ }).check();
    await next.click();
    await next.click();
    await page.getByText('This is an original model: it is measured once, as it is.').waitFor();
    expect(await page.getByLabel('Timesteps (T) to measure').count()).toBe(0);
    await page
      .getByTestId('memory-verdict')
      .filter({ hasText: /^Fits: it needs about/ })
      .waitFor();

    await page.getByRole('button', { name: /Model/ }).click();
    await page.getByRole('radio', { name: /tiny-stage1/ }).check();
    await next.click();
    // Own files are checked; a .jsonl is taken as multiple-choice items.
    await page.getByRole('radio', { name: 'My own task or text' }).check();
    await page.getByLabel('File or folder').fill(join(temp, 'whale.txt'));
    await page.getByText(/^Found one file \(.* of text for perplexity\)\.$/).waitFor();
    await page.getByRole('radio', { name: /^Pick the sentence that follows/ }).check();
    await next.click();
    await page.getByLabel('Timesteps (T) to measure').fill('2 1');
    // The memory of the largest T, with logits for every position of a batch.
    const estimate = page.getByTestId('memory-estimate');
    await estimate
      .getByText(/× 2 timesteps/)
      .first()
      .waitFor();
    await estimate
      .getByText(/vocabulary entries/)
      .first()
      .waitFor();
    await page.getByText('Advanced settings').click();
    await page.getByLabel('Limit (items)').fill('4');
    await next.click();
    await expect(page.locator('.review').textContent()).resolves.toMatch(/spiking network at T = 1, 2.*4 items/);
    await page.getByRole('button', { name: 'Start evaluating' }).click();

    await page.waitForURL(/#\/evaluate\/.+/);
    const results = page.getByTestId('evaluate-results');
    await results.waitFor({ timeout: 60_000 });
    const jobId = decodeURIComponent(page.url().split('#/evaluate/')[1]!);
    expect((await core.call('jobs.get', { id: jobId })).params).toMatchObject({ task: 'moby-next-sentence', timesteps: [1, 2], limit: 4 });
    await expect(results.getByTestId('eval-table').locator('thead th').allTextContents()).resolves.toEqual([
      'Model',
      'Accuracy',
      'Accuracy (length-normalised)',
    ]);
    const rows = await results.getByTestId('eval-table').locator('tbody tr').allTextContents();
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(row).toMatch(/\d+\.\d%\s*\d+\.\d%$/);
    await expect(results.getByTestId('task').innerText()).resolves.toBe(
      'Next sentence (Moby Dick): 4 items answered, chance 25.0%. Accuracy: higher is better.',
    );
    await expect(results.getByTestId('metric-chart').getByRole('img').getAttribute('aria-label')).resolves.toMatch(
      /^Line chart of Accuracy of the spiking model against T, 2 points, .*; Chance: 25\.0%$/,
    );
    await settle(page);
    await page.screenshot({ path: `${ARTIFACTS}evaluate-multiple-choice.png`, fullPage: true });
    expect(errors).toEqual([]);
  }, 90_000);
});

describe('evaluation results of a spiking model that collapses at small T', () => {
  const temp = mkdtempSync(join(tmpdir(), 'fas-e2e-evaluate-collapse-'));
  const report: EvalReport = {
    model: { dir: join(temp, 'gpt2-stage2'), architecture: 'GPT-2', parameters: 124_439_808, stage: 'calibrated' },
    task: { name: 'ppl (Moby Dick)', kind: 'perplexity', size: 16_384 },
    rows: [
      { mode: 'ann', timesteps: null, perplexity: 29.4 },
      { mode: 'qcfs', timesteps: null, perplexity: 31.2 },
      { mode: 'snn', timesteps: 1, perplexity: 2410.5 },
      { mode: 'snn', timesteps: 2, perplexity: 388.1 },
      { mode: 'snn', timesteps: 4, perplexity: 61.7 },
      { mode: 'snn', timesteps: 8, perplexity: 33.9 },
      { mode: 'snn', timesteps: 16, perplexity: 31.8 },
      { mode: 'snn', timesteps: 32, perplexity: 31.4 },
    ],
    firing: { timesteps: 8, perLayer: [0.12, 0.08, 0.1, 0.05, 0.07, 0.04, 0.06, 0.03, 0.05, 0.04, 0.02, 0.03] },
    energy: {
      timesteps: 8,
      annMacJoules: 1.2e-4,
      snnMacJoules: 8.1e-4,
      snnAcJoules: 4e-6,
      counted: 'MACs of every dense op, T times; ACs of the spike-driven down projection.',
    },
    warnings: [],
    createdAt: '2026-11-28T12:00:00.000Z',
  };
  let core: AppCore;
  let app: ServedApp;

  beforeAll(async () => {
    const { collapseWarnings } = await import('../../electron/core/eval/evaluate.js');
    report.warnings = collapseWarnings(report.rows);
    // An 'evaluate' kind that writes this report as the real one does, without running a model.
    const fixture = join(temp, 'canned-evaluate.mjs');
    const htmlReport = new URL('../../dist/electron/core/eval/html-report.js', import.meta.url).href;
    writeFileSync(
      fixture,
      `import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { htmlReport } from ${JSON.stringify(htmlReport)};
const report = ${JSON.stringify(report)};
export default { kind: 'evaluate', async run(params, ctx) {
  ctx.progress({ fraction: 0.5, message: 'Evaluating spiking model, T = 4' });
  const reportHtml = join(ctx.runDir, 'report.html');
  await writeFile(reportHtml, await htmlReport(report));
  return { ...report, reportHtml };
} };
`,
    );
    core = new AppCore({
      workspaceDir: join(temp, 'workspace'),
      jobKinds: { ...jobKinds, evaluate: { module: fixture, params: evalSettings, title: () => 'Evaluate gpt2-stage2 on ppl' } },
    });
    app = await serveApp(core);
  });
  afterAll(() => app?.close());

  it('shows the collapse warnings first, the curve on a log T axis, and every chart in both themes', async () => {
    expect(report.warnings).toHaveLength(3);
    const job = await core.call('jobs.start', { kind: 'evaluate', params: { modelDir: report.model.dir, task: 'ppl' } });
    expect((await core.jobs.waitFor(job.id)).state).toBe('done');
    const page = await app.browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.setDefaultTimeout(15_000);
    const errors = watchErrors(page);
    await page.goto(`${app.server.url}#/evaluate/${job.id}`);
    const results = page.getByTestId('evaluate-results');
    await results.waitFor();
    const warnings = results.getByRole('alert');
    await expect(warnings.getByRole('listitem').allTextContents()).resolves.toEqual(report.warnings);
    // The warnings come before the charts.
    const [alertBox, chartBox] = await Promise.all([warnings.boundingBox(), results.getByTestId('metric-chart').boundingBox()]);
    expect(alertBox!.y).toBeLessThan(chartBox!.y);
    await expect(results.getByTestId('metric-chart').getByRole('img').getAttribute('aria-label')).resolves.toBe(
      'Line chart of Perplexity of the spiking model against T, 6 points, latest 31.4 at T 32; Original (ANN): 29.4; Fine-tuned (stage 1), not spiking: 31.2',
    );
    expect(await results.getByTestId('eval-table').locator('tbody tr').count()).toBe(8);
    await expect(results.getByTestId('energy').textContent()).resolves.toBe('Original 120 µJ · Spiking 814 µJ per token');
    await expect(results.getByTestId('energy-line').textContent()).resolves.toMatch(
      /^\s*This spiking model spends 6\.8× the energy of the original per token \(only the FFN projection runs on spikes; .*\): at T = \d+ /,
    );
    await settle(page);
    await page.screenshot({ path: `${ARTIFACTS}evaluate-collapse.png`, fullPage: true });
    await page.getByRole('button', { name: /theme/ }).click();
    await settle(page);
    await page.screenshot({ path: `${ARTIFACTS}evaluate-collapse-dark.png`, fullPage: true });
    const file = await core.call('jobs.report', { id: job.id });
    expect(file).toMatchObject({ mimeType: 'text/html', fileName: `evaluation-gpt2-stage2-${job.id}.html` });
    expect(file.text).toContain('<canvas id="metric"');

    // Opened in place: a new tab, sandboxed, where the report's own charts run.
    const [tab] = await Promise.all([page.waitForEvent('popup'), results.getByRole('button', { name: 'Open the report' }).click()]);
    const tabErrors: string[] = [];
    tab.on('pageerror', (e) => tabErrors.push(e.message));
    await tab.waitForURL(/\/api\/report\//);
    expect(tab.url()).toContain(`/api/report/${encodeURIComponent(job.id)}?ticket=`);
    expect(tab.url()).not.toContain(app.server.token);
    await tab.locator('#metric').waitFor();
    await expect
      .poll(() => tab.evaluate(() => Boolean((window as unknown as { Chart?: { getChart(id: string): unknown } }).Chart?.getChart('metric'))))
      .toBe(true);
    await expect(tab.evaluate(() => window.origin)).resolves.toBe('null'); // an opaque origin: it cannot call the API
    await results.getByRole('status').filter({ hasText: 'The report opened in your web browser.' }).waitFor();
    await tab.close();
    expect(tabErrors).toEqual([]);
    expect(errors).toEqual([]);
  }, 60_000);
});
