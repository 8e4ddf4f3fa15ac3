// A new user's whole path in headless Chromium, against the real core and engine, on the bundled
// demo model: find it in the library, fine-tune it (stage 1) for a few steps, calibrate the result
// (stage 2), evaluate the spiking model against T, and see the charts and results of each; the
// lineage ends up in the library. Tiny settings everywhere, so it stays as fast as the machine allows.
// Needs `npm run build:core && npm run build:ui`.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CalibrationResult, EvaluationResult } from '../../electron/api/contract.js';
import { AppCore } from '../../electron/core/app-core.js';
import { builtInModels, DEMO_MODEL_NAME } from '../../electron/core/demo/demo-model.js';
import { ARTIFACTS } from './browser.js';
import { serveApp, type ServedApp, watchErrors } from './test-app.js';

/** Lets chart.js draw after a resize or a theme switch before a screenshot. */
const settle = (page: Page) => page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));

describe('walkthrough of a new user on the demo model', () => {
  const workspaceDir = join(mkdtempSync(join(tmpdir(), 'fas-e2e-walkthrough-')), 'workspace');
  let core: AppCore;
  let app: ServedApp;

  beforeAll(async () => {
    expect(builtInModels()).toHaveLength(1);
    core = new AppCore({ workspaceDir, builtInModels: builtInModels() });
    app = await serveApp(core);
  });
  afterAll(() => app?.close());

  it('fine-tunes, calibrates and evaluates the demo model, with charts and results at each stage', async () => {
    const page = await app.browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.setDefaultTimeout(20_000);
    const errors = watchErrors(page);
    const nav = page.getByRole('navigation');
    const next = page.getByRole('button', { name: 'Next' });

    // The library already holds the demo model.
    await page.goto(`${app.server.url}#/library`);
    const demoCard = page.getByTestId('model-card').filter({ hasText: DEMO_MODEL_NAME });
    await demoCard.waitFor();
    await expect(demoCard.getByTestId('stage').textContent()).resolves.toBe('Original');
    const demo = (await core.call('models.list', {})).find((m) => m.builtIn)!;

    // ---- Stage 1: fine-tune for 4 steps on Moby Dick. ----
    await nav.getByRole('link', { name: 'Fine-tune', exact: true }).click();
    await page.getByRole('radio', { name: new RegExp(DEMO_MODEL_NAME.replace(/[()]/g, '\\$&')) }).check();
    await next.click();
    await page.getByLabel('Bundled text').selectOption({ label: 'Moby Dick' });
    await next.click();
    await page.getByRole('spinbutton', { name: 'Steps', exact: true }).fill('4');
    await page.getByLabel('Batch size').fill('2');
    await page.getByLabel('Block size').fill('32');
    await page.getByText('Advanced settings').click();
    await page.getByLabel('Validate every').fill('4');
    await next.click();
    await page.getByRole('button', { name: 'Start fine-tuning' }).click();
    await page.waitForURL(/#\/finetune\/.+/);
    const finetuned = page.getByTestId('finetune-results');
    await finetuned.waitFor({ timeout: 120_000 });
    await expect(finetuned.getByTestId('new-model').textContent()).resolves.toContain(`made from ${DEMO_MODEL_NAME}`);
    await settle(page);
    await page.screenshot({ path: `${ARTIFACTS}walkthrough-1-finetune-results.png`, fullPage: true });
    const stage1 = (await core.call('models.list', {})).find((m) => m.stage === 'qcfs')!;
    expect(stage1.parentId).toBe(demo.id);

    // ---- Stage 2: calibrate per layer at T = 4 on 2 samples of 32 tokens. ----
    await nav.getByRole('link', { name: 'Calibrate', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Calibrate a model (stage 2)' }).waitFor();
    await page
      .getByTestId('stage2-about')
      .getByText(/Stage 2 replaces the fine-tuned model's stepped activations/)
      .waitFor();
    // The only fine-tuned model is chosen already.
    await expect(page.getByRole('radio', { name: new RegExp(stage1.name) }).isChecked()).resolves.toBe(true);
    await next.click();
    await page.getByRole('heading', { name: /Step 2 of 4: Data/ }).waitFor();
    await page.getByLabel('Bundled text').selectOption({ label: 'Moby Dick' });
    await next.click();
    await page.getByRole('heading', { name: /Step 3 of 4: Settings/ }).waitFor();
    await expect(page.getByLabel('Timesteps (T)').inputValue()).resolves.toBe('8');
    await page.getByLabel('Timesteps (T)').fill('4');
    await page.getByRole('radio', { name: /^Per layer/ }).check();
    await page.getByLabel('Calibration samples').fill('2');
    await page.getByText('Advanced settings').click();
    await page.getByLabel('Block size').fill('32');
    await page.getByLabel('Most text to read (MB)').fill('0.5');
    const estimate = page.getByTestId('memory-estimate');
    // The estimate follows the settings once typing settles.
    await expect.poll(() => estimate.textContent(), { timeout: 10_000 }).toMatch(/4 × 32 tokens × \(4 timesteps/);
    await estimate.getByTestId('memory-verdict').filter({ hasText: /^Fits/ }).waitFor();
    // Named after the original model, short: "Demo GPT-2 · stage 2".
    expect(await page.getByLabel('Output folder').inputValue()).toBe(`${workspaceDir}/models/Demo GPT-2 · stage 2`);
    await page.screenshot({ path: `${ARTIFACTS}walkthrough-2-calibrate-settings.png`, fullPage: true });
    await next.click();
    await expect(page.locator('.review').textContent()).resolves.toContain('T = 4, per layer (coarse pass), on 2 samples of 32 tokens');
    await page.getByRole('button', { name: 'Start calibrating' }).click();
    await page.waitForURL(/#\/calibrate\/.+/);
    const calibrateId = decodeURIComponent(page.url().split('#/calibrate/')[1]!);
    await page.getByRole('heading', { level: 1, name: `Calibrating ${stage1.name}` }).waitFor();
    const calibrated = page.getByTestId('calibrate-results');
    await calibrated.waitFor({ timeout: 120_000 });

    const result = (await core.call('jobs.get', { id: calibrateId })).result as CalibrationResult;
    expect(result).toMatchObject({ timesteps: 4, level: 'layer', samples: 2, blockSize: 32 });
    expect(await core.call('jobs.get', { id: calibrateId }).then((j) => j.params)).toMatchObject({
      timesteps: 4,
      level: 'layer',
      samples: 2,
      blockSize: 32,
      maxDataBytes: 500_000,
    });
    // Per layer: before and coarse, no fine pass; the chart and the table say the same.
    await expect(calibrated.getByTestId('align-table').locator('thead th').allTextContents()).resolves.toEqual([
      'Layer',
      'Lambda',
      'Before calibration',
      'After the coarse pass',
      'Coarse threshold, starting charge',
    ]);
    expect(await calibrated.getByTestId('align-table').locator('tbody tr').count()).toBe(4);
    const alignChart = calibrated.getByTestId('bar-chart').filter({ hasText: 'Align error per layer' });
    await expect(alignChart.getByRole('img').getAttribute('aria-label')).resolves.toMatch(/layer 3: before calibration \S+, after the coarse pass \S+$/);
    const ppl = await calibrated.getByTestId('perplexity-table').locator('tbody tr').allTextContents();
    expect(ppl).toHaveLength(3);
    expect(ppl[0]).toMatch(/^Fine-tuned model \(QCFS\)[\d,.]+0$/);
    expect(ppl[2]).toMatch(/^Spiking, after the coarse pass[\d,.]+/);
    await expect(calibrated.getByTestId('scope').textContent()).resolves.toContain("minimise each layer's align loss");
    await expect(calibrated.getByTestId('new-model').textContent()).resolves.toMatch(
      new RegExp(`is in the Library as “Spiking, calibrated”, made from ${stage1.name}\\. It runs with T = 4, calibrated per layer\\.`),
    );
    const stage2 = (await core.call('models.list', {})).find((m) => m.stage === 'calibrated')!;
    expect(stage2).toMatchObject({ parentId: stage1.id, path: result.outDir, spiking: { timesteps: 4, calibration: 'layer' } });
    await settle(page);
    await page.screenshot({ path: `${ARTIFACTS}walkthrough-3-calibrate-results.png`, fullPage: true });

    // ---- Evaluate the spiking model: perplexity on 256 tokens at T = 2 and 4. ----
    await calibrated.getByRole('link', { name: 'Evaluate it against T' }).click();
    await page.getByRole('heading', { level: 1, name: 'Evaluate a model' }).waitFor();
    // The newest spiking model is chosen already; every model in the library is offered.
    await expect(page.getByRole('radio', { name: new RegExp(stage2.name) }).isChecked()).resolves.toBe(true);
    expect(await page.getByRole('radio').count()).toBe(3);
    await next.click();
    await page.getByRole('heading', { name: /Step 2 of 4: Task/ }).waitFor();
    await expect(page.getByRole('radio', { name: /^Perplexity on Moby Dick/ }).isChecked()).resolves.toBe(true);
    await expect(page.getByRole('radio', { name: /^Pick the sentence that follows/ }).count()).resolves.toBe(1);
    await next.click();
    await expect(page.getByLabel('Timesteps (T) to measure').inputValue()).resolves.toBe('1, 2, 4, 8, 16, 32');
    await page.getByLabel('Timesteps (T) to measure').fill('4, two');
    await page
      .getByText(/"two" is not a number of timesteps/)
      .first()
      .waitFor();
    expect(await next.isDisabled()).toBe(true);
    await page.getByLabel('Timesteps (T) to measure').fill('4, 2');
    await page.getByText('4 runs: the original network, the fine-tuned network, and the spiking network at T = 2, 4.').waitFor();
    await page.getByText('Advanced settings').click();
    await page.getByLabel('Limit (tokens)').fill('256');
    await page.screenshot({ path: `${ARTIFACTS}walkthrough-4-evaluate-settings.png`, fullPage: true });
    await next.click();
    await page.getByRole('button', { name: 'Start evaluating' }).click();
    await page.waitForURL(/#\/evaluate\/.+/);
    const evaluateId = decodeURIComponent(page.url().split('#/evaluate/')[1]!);
    const evaluated = page.getByTestId('evaluate-results');
    await evaluated.waitFor({ timeout: 120_000 });

    const report = (await core.call('jobs.get', { id: evaluateId })).result as EvaluationResult;
    expect(report.rows.map((r) => [r.mode, r.timesteps])).toEqual([
      ['ann', null],
      ['qcfs', null],
      ['snn', 2],
      ['snn', 4],
    ]);
    await expect(evaluated.getByTestId('eval-table').locator('tbody th').allTextContents()).resolves.toEqual([
      'Original (ANN)',
      'Fine-tuned (stage 1), not spiking',
      'Spiking, T = 2',
      'Spiking, T = 4',
    ]);
    const curve = evaluated.getByTestId('metric-chart');
    await expect(curve.locator('figcaption').textContent()).resolves.toMatch(/^Perplexity of the spiking model\s*latest [\d,.]+ at T 4$/);
    await expect(curve.getByRole('img').getAttribute('aria-label')).resolves.toMatch(
      /2 points.*; Original \(ANN\): [\d,.]+; Fine-tuned \(stage 1\), not spiking: [\d,.]+$/,
    );
    await expect(
      evaluated.getByTestId('bar-chart').filter({ hasText: 'Firing rate per layer at T = 4' }).getByRole('img').getAttribute('aria-label'),
    ).resolves.toMatch(/layer 0 [\d.]+%, layer 1 [\d.]+%, layer 2 [\d.]+%, layer 3 [\d.]+%$/);
    await evaluated.getByTestId('bar-chart').filter({ hasText: 'Energy per token' }).waitFor();
    await expect(evaluated.getByTestId('energy').textContent()).resolves.toMatch(/^Original [\d.]+ µJ · Spiking [\d.]+ µJ per token$/);
    await expect(evaluated.getByTestId('counted').textContent()).resolves.toContain('MACs (4.6 pJ each)');
    expect(await evaluated.getByTestId('collapse-warnings').count()).toBe(report.warnings.length > 0 ? 1 : 0);
    await expect(evaluated.getByTestId('report-path').textContent()).resolves.toBe(report.reportHtml);
    // Every chart drew something.
    for (const canvas of await evaluated.locator('canvas').all()) {
      expect(await canvas.evaluate((c: HTMLCanvasElement) => c.width > 0 && c.height > 0)).toBe(true);
    }
    await settle(page);
    await page.screenshot({ path: `${ARTIFACTS}walkthrough-4-evaluate-results.png`, fullPage: true });

    // The saved report comes down as a file.
    const [download] = await Promise.all([page.waitForEvent('download'), evaluated.getByRole('button', { name: 'Save the HTML report…' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^evaluation-Demo-GPT-2-stage-2-.+\.html$/);
    await download.saveAs(join(ARTIFACTS, 'walkthrough-report.html'));
    expect(readFileSync(join(ARTIFACTS, 'walkthrough-report.html'), 'utf8')).toBe(readFileSync(report.reportHtml, 'utf8'));
    await evaluated.getByText(/^Saved as evaluation-.+\.html: open it in any web browser, offline\.$/).waitFor();

    // Dark theme and a narrow window.
    await page.getByRole('button', { name: /theme/ }).click();
    await settle(page);
    await page.screenshot({ path: `${ARTIFACTS}walkthrough-4-evaluate-results-dark.png`, fullPage: true });
    await page.setViewportSize({ width: 420, height: 900 });
    await settle(page);
    // Nothing may stick out sideways in a narrow window.
    const fits = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    await expect(fits()).resolves.toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}walkthrough-4-evaluate-results-narrow-dark.png`, fullPage: true });
    await page.goto(`${app.server.url}#/calibrate/${calibrateId}`);
    await calibrated.waitFor();
    await settle(page);
    await expect(fits()).resolves.toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}walkthrough-3-calibrate-results-narrow-dark.png`, fullPage: true });
    await page.setViewportSize({ width: 1100, height: 900 });

    // The library shows the whole lineage.
    await nav.getByRole('link', { name: 'Library', exact: true }).click();
    const card = page.getByTestId('model-card').filter({ hasText: stage2.name });
    await expect(card.getByTestId('stage').textContent()).resolves.toBe('Spiking, calibrated');
    await card.getByText(`Made from ${stage1.name}`).waitFor();
    expect(errors).toEqual([]);
  }, 400_000);
});
