// The calibration wizard (FAS stage 2) in headless Chromium against the real core and engine, on a
// tiny GPT-2: what it says before there is a fine-tuned model, the checks of each step, and a
// calibration cancelled from its run page (it ends cancelled, nothing is added to the library, and
// it can be resumed from its checkpoint, as the same run, whose live chart keeps each stage's bars),
// then paused. The run is held still where the test clicks (held-jobs.ts), so every click lands on a
// running job at a known place, however fast the machine is.
// Needs `npm run build:core && npm run build:ui`.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../electron/api/contract.js';
import { AppCore } from '../../electron/core/app-core.js';
import { writeTinyModel } from '../helpers/tiny-models.js';
import { ARTIFACTS } from './browser.js';
import { jobHold } from './held-jobs.js';
import { serveApp, type ServedApp, watchErrors } from './test-app.js';

const TEXT = 'The whale swam on. The sea was calm and grey. Ishmael watched the whale from the deck.\n\n'.repeat(400);

describe('calibration wizard: cancel', () => {
  const temp = mkdtempSync(join(tmpdir(), 'fas-e2e-calibrate-'));
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

  it('checks each step, starts a calibration, shows it live, cancels it, resumes it and pauses it', async () => {
    const page = await app.browser.newPage({ viewport: { width: 1000, height: 900 } });
    page.setDefaultTimeout(15_000);
    const errors = watchErrors(page);
    const next = page.getByRole('button', { name: 'Next' });

    // No fine-tuned model yet: the wizard says what to do first.
    await page.goto(`${app.server.url}#/calibrate`);
    await page.getByText('There is no fine-tuned model in the library yet.').waitFor();
    await page.getByText('Fine-tune a model first (stage 1).').waitFor();
    expect(await next.isDisabled()).toBe(true);

    // A quick stage 1 through the API.
    const stage1Dir = join(workspaceDir, 'models', 'tiny-stage1');
    const finetune = await core.call('jobs.start', {
      kind: 'finetune',
      params: { modelDir: source.path, dataPath, outDir: stage1Dir, steps: 2, batchSize: 2, blockSize: 16, valEvery: 2 },
    });
    expect((await core.jobs.waitFor(finetune.id)).state).toBe('done');
    await page.reload();
    await expect(page.getByRole('radio', { name: /tiny-stage1/ }).isChecked()).resolves.toBe(true);
    await expect(
      page
        .getByRole('radio', { name: /tiny-stage1/ })
        .locator('..')
        .textContent(),
    ).resolves.toContain('made from tiny-gpt2');
    await next.click();

    // Own text, checked before Next.
    await page.getByRole('radio', { name: 'My own text' }).check();
    expect(await next.isDisabled()).toBe(true);
    await page.getByLabel('File or folder').fill(dataPath);
    await page.getByText(/^Found one file \(.* of text\)\.$/).waitFor();
    await next.click();

    await expect(page.getByRole('radio', { name: /^Per neuron/ }).isChecked()).resolves.toBe(true);
    await page.getByLabel('Calibration samples').fill('200');
    await page.getByText('Advanced settings').click();
    // The default block size (128) is cut to this model's context; a longer one is refused in words.
    expect(await page.getByLabel('Block size').inputValue()).toBe('32');
    await page.getByLabel('Block size').fill('64');
    await page.getByText("The block size can be at most 32, the model's context length.").first().waitFor();
    expect(await next.isDisabled()).toBe(true);
    await page.getByLabel('Block size').fill('16');
    await page.getByLabel('Epochs', { exact: true }).fill('100');
    await page.getByTestId('memory-verdict').waitFor();
    await next.click();
    await expect(page.locator('.review').textContent()).resolves.toMatch(
      /T = 8, per neuron \(coarse, fine and joint passes\), on 200 samples of 16 tokens, 100 epochs per layer, \d+ joint epochs/,
    );
    // The run stops once it has measured the first layer, until the cancel below reaches it.
    hold.hold(/^Measuring the uncalibrated model, layer 1 of 2 done$/);
    await page.getByRole('button', { name: 'Start calibrating' }).click();

    // The run: progress, live bars, listed as in progress on the wizard's page.
    await page.waitForURL(/#\/calibrate\/.+/);
    const jobId = decodeURIComponent(page.url().split('#/calibrate/')[1]!);
    await page.getByTestId('job-state').filter({ hasText: 'Running' }).waitFor({ timeout: 30_000 });
    await page.getByRole('progressbar').waitFor();
    const live = page.getByTestId('calibrate-live').getByRole('img');
    await expect.poll(() => live.getAttribute('aria-label'), { timeout: 30_000 }).toMatch(/Before calibration: layer 0 \S+/);
    /** The bars of one stage in the chart's summary, e.g. "Before calibration: layer 0 0.01, layer 1 0.02". */
    const bars = async (stage: string) => (await live.getAttribute('aria-label'))?.match(new RegExp(`${stage}: [^;]*`))?.[0] ?? '';
    await page.screenshot({ path: `${ARTIFACTS}calibrate-running.png`, fullPage: true });
    await page.getByRole('link', { name: '← Calibrate another model' }).click();
    await page.getByRole('region', { name: 'Calibrations in progress' }).getByRole('link', { name: 'tiny-stage1' }).click();
    await page.waitForURL((url) => url.hash.endsWith(encodeURIComponent(jobId)));

    // Cancel, after confirming; released, the run saves the layer it measured and stops.
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await page.getByText(/^Stop ".*"\? What it saved so far is kept\.$/).waitFor();
    await Promise.all([page.waitForResponse((r) => r.url().includes('/api/call/jobs.cancel')), page.getByRole('button', { name: 'Stop it' }).click()]);
    hold.release();
    await page.getByTestId('job-state').filter({ hasText: 'Cancelled' }).waitFor({ timeout: 30_000 });
    await page
      .getByTestId('stopped')
      .getByText(/no calibrated model was added to the library/)
      .waitFor();
    expect(await page.getByRole('button', { name: 'Cancel', exact: true }).count()).toBe(0);
    expect(await page.getByRole('progressbar').count()).toBe(0);
    // What it measured before it stopped is still shown.
    await expect(live.getAttribute('aria-label')).resolves.toMatch(/layer 0/);
    const measuredBefore = await bars('Before calibration');
    await page.screenshot({ path: `${ARTIFACTS}calibrate-cancelled.png`, fullPage: true });

    expect((await core.call('jobs.get', { id: jobId })).state).toBe('cancelled');
    expect((await core.call('models.list', {})).some((m) => m.stage === 'calibrated')).toBe(false);

    // It saved a checkpoint after each layer: the page offers to continue from it.
    const resume = page.getByTestId('resume');
    await resume.getByText('Stopped before measuring the uncalibrated model, layer 2 of 2.').waitFor();
    await expect(resume.textContent()).resolves.toMatch(/the layers\s+calibrated\s+so\s+far\s+are\s+kept/);
    // The resumed run stops once the coarse pass has fitted the first layer, until the pause below reaches it.
    hold.hold(/^Coarse pass, layer 1 of 2 done$/);
    await page.getByRole('button', { name: 'Resume calibration' }).click();
    // The same run goes on, on the same page.
    await page.getByTestId('job-state').filter({ hasText: 'Running' }).waitFor({ timeout: 30_000 });
    expect(decodeURIComponent(page.url().split('#/calibrate/')[1]!)).toBe(jobId);
    expect(await core.call('jobs.get', { id: jobId })).toMatchObject({ kind: 'calibrate', resumes: 1, params: { resume: true } });
    // Its chart goes on too: the bars measured before the stop stay in their stage, and the next stage's follow.
    await expect.poll(() => bars('After the coarse pass'), { timeout: 60_000 }).toMatch(/layer 0 \S+/);
    expect(await bars('After the coarse pass')).not.toMatch(/layer 1/);
    expect(await bars('Before calibration')).toContain(measuredBefore);

    // Pause, from the run's page: it stops after the layer in progress, as one paused run.
    await Promise.all([page.waitForResponse((r) => r.url().includes('/api/call/jobs.pause')), page.getByRole('button', { name: 'Pause' }).click()]);
    hold.release();
    await page.getByTestId('job-state').filter({ hasText: 'Paused' }).waitFor({ timeout: 30_000 });
    await resume.getByText(/^Paused before the coarse pass, layer 2 of 2\.$/).waitFor();
    expect(await bars('Before calibration')).toContain(measuredBefore);
    await page.screenshot({ path: `${ARTIFACTS}calibrate-resumed-paused.png`, fullPage: true });
    expect((await core.call('jobs.list', {})).filter((job) => job.kind === 'calibrate')).toHaveLength(1);

    // The wizard's page lists it as paused, to continue.
    await page.getByRole('link', { name: '← Calibrate another model' }).click();
    await page.getByRole('heading', { name: 'Step 1 of 4: Model' }).waitFor();
    await expect(page.getByRole('region', { name: 'Calibrations in progress' }).textContent()).resolves.toContain('Paused');
    expect(errors).toEqual([]);
  }, 120_000);
});
