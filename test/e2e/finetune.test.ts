// The fine-tuning wizard (FAS stage 1) in headless Chromium against the real core and engine, on a
// tiny GPT-2 and a small text: walk the four steps, follow the run to its results, find the new
// model in the library with its lineage; pause a run (held still by the test while it clicks) and
// resume it to the end from the Runs page, where it stays one run with continuous charts.
// Needs `npm run build:core && npm run build:ui`.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../electron/api/contract.js';
import { AppCore } from '../../electron/core/app-core.js';
import { writeTinyModel } from '../helpers/tiny-models.js';
import { ARTIFACTS } from './browser.js';
import { jobHold } from './held-jobs.js';
import { serveApp, type ServedApp, watchErrors } from './test-app.js';

const TEXT = 'The whale swam on. The sea was calm and grey. Ishmael watched the whale from the deck.\n\n'.repeat(60);

describe('fine-tuning wizard', () => {
  const temp = mkdtempSync(join(tmpdir(), 'fas-e2e-finetune-'));
  const workspaceDir = join(temp, 'workspace');
  const dataPath = join(temp, 'whale.txt');
  let core: AppCore;
  let app: ServedApp;
  let source: ModelEntry;
  const hold = jobHold();

  beforeAll(async () => {
    await writeTinyModel(join(temp, 'tiny-gpt2'), 'gpt2');
    writeFileSync(dataPath, TEXT);
    core = new AppCore({ workspaceDir, jobKinds: hold.kinds });
    source = await core.call('models.open', { path: join(temp, 'tiny-gpt2') });
    app = await serveApp(core);
  });
  afterAll(() => app?.close());

  /** The number in a chart's caption: "latest 3.2 at step 6". */
  const latestStep = async (page: Page, title: string) =>
    Number(((await page.getByTestId('metric-chart').filter({ hasText: title }).locator('figcaption').textContent()) ?? '').match(/at step (\d+)/)?.[1]);

  it('walks the four steps, fine-tunes, shows curves and results, and puts the new model in the library', async () => {
    const page = await app.browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.setDefaultTimeout(15_000);
    const errors = watchErrors(page);
    await page.goto(`${app.server.url}#/finetune`);
    await page.getByRole('heading', { name: 'Fine-tune a model (stage 1)' }).waitFor();
    await expect(page.getByRole('link', { name: 'Fine-tune', exact: true }).getAttribute('aria-current')).resolves.toBe('page');

    // Step 1: the original model, with what stage 1 does.
    const next = page.getByRole('button', { name: 'Next' });
    // The only model in the library is already chosen.
    await page.getByText(/Stage 1 swaps the activation/).waitFor();
    await expect.poll(() => page.getByRole('radio', { name: /tiny-gpt2/ }).isChecked()).toBe(true);
    await next.click();

    // Step 2: the bundled texts are offered; a path is checked before Next.
    await page.getByRole('heading', { name: /Step 2 of 4: Data/ }).waitFor();
    await expect(page.getByLabel('Bundled text').locator('option').allTextContents()).resolves.toEqual(['State of the Union addresses', 'Moby Dick']);
    await page.getByRole('radio', { name: 'My own text' }).check();
    await page.getByLabel('File or folder').fill(join(temp, 'nowhere.txt'));
    await page.getByText(/does not exist/).waitFor();
    expect(await next.isDisabled()).toBe(true);
    await page.getByLabel('File or folder').fill(dataPath);
    await page.getByText(/Found one file \(.* of text\)/).waitFor();
    await next.click();

    // Step 3: settings with the memory estimate and its breakdown.
    await page.getByRole('heading', { name: /Step 3 of 4: Settings/ }).waitFor();
    expect(await page.getByLabel('Learning rate', { exact: true }).inputValue()).toBe('0.0001');
    expect(await page.getByRole('radio', { name: 'FFN only: the FAS paper’s recipe' }).isChecked()).toBe(true);
    await page.getByRole('radio', { name: 'Every layer: fully spike-driven, lowest energy' }).check();
    await page.getByText(/needs no calibration afterwards/).waitFor();
    await page.getByRole('radio', { name: 'FFN only: the FAS paper’s recipe' }).check();
    await page.getByRole('spinbutton', { name: 'Steps', exact: true }).fill('6');
    await page.getByLabel('Batch size').fill('2');
    await page.getByLabel('Block size').fill('64');
    await page
      .getByText(/The block size can be at most 32/)
      .first()
      .waitFor();
    expect(await next.isDisabled()).toBe(true);
    await page.getByLabel('Block size').fill('16');
    const estimate = page.getByTestId('memory-estimate');
    await estimate
      .getByTestId('memory-verdict')
      .filter({ hasText: /^Fits: it needs about/ })
      .waitFor();
    await expect(estimate.getByRole('rowheader').allTextContents()).resolves.toEqual([
      'Weights',
      'Gradients',
      'Optimizer state (AdamW)',
      'Activations kept for backward',
      'Backward work buffers',
      'Logits',
      'Total',
    ]);
    // The first estimate (the defaults, fitted to the model) fits too: wait for the one of these settings.
    await estimate.filter({ hasText: '2 × 16 tokens' }).waitFor();
    await page.getByText('Advanced settings').click();
    await page.getByLabel('Validate every').fill('2');
    expect(await page.getByLabel('Output folder').inputValue()).toBe(`${workspaceDir}/models/tiny-gpt2 · stage 1`);
    await page.screenshot({ path: `${ARTIFACTS}finetune-settings.png`, fullPage: true });
    await page.setViewportSize({ width: 420, height: 900 });
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
    await page.screenshot({ path: `${ARTIFACTS}finetune-settings-narrow.png`, fullPage: true });
    await page.setViewportSize({ width: 1100, height: 900 });
    await next.click();

    // Step 4: a last look, then start.
    await page.getByRole('heading', { name: /Step 4 of 4: Start/ }).waitFor();
    await expect(page.locator('.review').textContent()).resolves.toContain('6 steps of 2 × 16 tokens');
    await page.screenshot({ path: `${ARTIFACTS}finetune-review.png`, fullPage: true });
    await page.getByRole('button', { name: 'Start fine-tuning' }).click();

    // The run: it finishes, with both curves and the results.
    await page.waitForURL(/#\/finetune\/.+/);
    const jobId = decodeURIComponent(page.url().split('#/finetune/')[1]!);
    await page.getByRole('heading', { level: 1, name: 'Fine-tuning tiny-gpt2' }).waitFor();
    const results = page.getByTestId('finetune-results');
    await results.waitFor({ timeout: 60_000 });
    await expect.poll(() => latestStep(page, 'Training loss'), { timeout: 5000 }).toBe(6);
    await expect.poll(() => latestStep(page, 'Validation perplexity'), { timeout: 5000 }).toBe(6);
    const perplexities = await results.locator('.ppl td').allTextContents();
    expect(perplexities).toHaveLength(3);
    for (const value of perplexities) expect(Number(value.replace(/,/g, ''))).toBeGreaterThan(1);
    expect(await results.getByTestId('lambdas').locator('tbody tr').count()).toBe(2);
    await expect(results.getByTestId('new-model').textContent()).resolves.toMatch(
      /tiny-gpt2 · stage 1 is in the Library as “Fine-tuned \(stage 1\)”, made from tiny-gpt2\./,
    );
    await page.screenshot({ path: `${ARTIFACTS}finetune-results.png`, fullPage: true });

    const job = await core.call('jobs.get', { id: jobId });
    expect(job.params).toMatchObject({
      modelDir: source.path,
      dataPath,
      steps: 6,
      batchSize: 2,
      blockSize: 16,
      valEvery: 2,
      scope: 'ffn',
      qcfs: { levels: 8, initialLambda: 2 },
    });

    // The library shows the new model, made from the original.
    await page.getByRole('navigation').getByRole('link', { name: 'Library' }).click();
    const card = page.getByTestId('model-card').filter({ hasText: 'tiny-gpt2 · stage 1' });
    await card.waitFor();
    await expect(card.getByTestId('stage').textContent()).resolves.toBe('Fine-tuned (stage 1)');
    await expect(card.getByText('Made from tiny-gpt2').isVisible()).resolves.toBe(true);
    const made = (await core.call('models.list', {})).find((m) => m.stage === 'qcfs')!;
    expect(made.parentId).toBe(source.id);
    await page.getByRole('button', { name: /theme/ }).click();
    await card.screenshot({ path: `${ARTIFACTS}finetune-library-card-dark.png` });
    // The one refusal: the path that does not exist.
    expect(errors).toEqual(['Failed to load resource: the server responded with a status of 400 (Bad Request)']);
  }, 60_000);

  it('pauses a run in the wizard and resumes it from the Runs page to the end', async () => {
    const outDir = join(workspaceDir, 'models', 'paused');
    const params = { modelDir: source.path, dataPath, outDir, steps: 40, batchSize: 4, blockSize: 32, valEvery: 20, saveEvery: 30 };
    hold.hold();
    const started = await core.call('jobs.start', { kind: 'finetune', params });
    const page = await app.browser.newPage({ viewport: { width: 1000, height: 900 } });
    page.setDefaultTimeout(15_000);
    const errors = watchErrors(page);
    await page.goto(`${app.server.url}#/finetune/${started.id}`);
    await page.getByRole('button', { name: /theme/ }).click();
    await page.waitForFunction(() => Number(document.querySelector('[role=progressbar]')?.getAttribute('aria-valuenow')) > 0);
    await page.getByText(/^(about .*|less than a minute) left$/).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}finetune-running.png`, fullPage: true });
    // The job is held at its first step: the click lands on a running job, and the job goes on once the
    // pause request has reached it.
    await Promise.all([page.waitForResponse((r) => r.url().includes('/api/call/jobs.pause')), page.getByRole('button', { name: 'Pause' }).click()]);
    hold.release();

    const resume = page.getByTestId('resume');
    await resume.getByText(/^Paused at step \d+ of 40\./).waitFor();
    await expect(page.getByTestId('job-state').textContent()).resolves.toBe('Paused');
    const pausedAt = Number((await resume.locator('strong').textContent())!.match(/step (\d+)/)![1]);
    await expect(resume.textContent()).resolves.toContain('Resuming continues from this checkpoint');
    await page.screenshot({ path: `${ARTIFACTS}finetune-paused.png`, fullPage: true });

    // The wizard lists it as unfinished.
    await page.getByRole('link', { name: '← Fine-tune another model' }).click();
    await page.getByRole('region', { name: 'Unfinished runs' }).getByRole('link', { name: 'tiny-gpt2' }).waitFor();

    // Resume from the run's page under Runs: the same run goes on, on the same page.
    await page.goto(`${app.server.url}#/runs/${started.id}`);
    const resumeButton = page.getByRole('button', { name: `Resume from step ${pausedAt}` });
    await resumeButton.waitFor();
    const lossChart = page.getByTestId('metric-chart').filter({ hasText: 'Training loss' }).getByRole('img');
    await expect(lossChart.getAttribute('aria-label')).resolves.toContain(`${pausedAt} points, latest`);
    await page.screenshot({ path: `${ARTIFACTS}finetune-runs-resume.png`, fullPage: true });
    await resumeButton.click();
    await page.getByTestId('job-state').filter({ hasText: 'Done' }).waitFor({ timeout: 60_000 });
    expect(decodeURIComponent(page.url().split('#/runs/')[1]!)).toBe(started.id);
    // The charts go on from the pause: every step once, from the first to the last.
    await expect.poll(() => latestStep(page, 'Training loss'), { timeout: 5000 }).toBe(40);
    await expect(lossChart.getAttribute('aria-label')).resolves.toContain('40 points, latest');
    await expect(page.getByTestId('metric-chart').filter({ hasText: 'Validation perplexity' }).getByRole('img').getAttribute('aria-label')).resolves.toContain(
      '3 points, latest',
    );
    const steps = (await core.call('jobs.metrics', { id: started.id })).map((row) => row.step);
    expect(steps).toEqual(Array.from({ length: 41 }, (_, i) => i));
    // Its result keeps what was measured before the pause (the record with it comes just after the state).
    await page.getByTestId('finetune-results').waitFor();
    const perplexities = await page.getByTestId('finetune-results').locator('.ppl td').allTextContents();
    expect(perplexities).toHaveLength(3);
    for (const value of perplexities) expect(Number(value.replace(/,/g, ''))).toBeGreaterThan(1);
    expect((await core.call('models.list', {})).find((m) => m.path === outDir)?.parentId).toBe(source.id);
    await page.screenshot({ path: `${ARTIFACTS}finetune-resumed-done.png`, fullPage: true });

    // Runs lists it once, done.
    await page.goto(`${app.server.url}#/runs`);
    const rows = page.getByTestId('run').filter({ hasText: started.title });
    await rows.first().waitFor();
    await expect(rows.count()).resolves.toBe(1);
    await expect(rows.getByTestId('job-state').textContent()).resolves.toBe('Done');
    await page.screenshot({ path: `${ARTIFACTS}finetune-resumed-runs.png`, fullPage: true });

    // It is no longer unfinished.
    await page.goto(`${app.server.url}#/finetune`);
    await page.getByRole('heading', { name: 'Step 1 of 4: Model' }).waitFor();
    expect(await page.getByRole('region', { name: 'Unfinished runs' }).count()).toBe(0);
    expect(errors).toEqual([]);
  }, 60_000);
});
