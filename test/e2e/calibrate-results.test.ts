// The results of a per-neuron calibration in headless Chromium: a 'calibrate' kind that returns a
// known report (so the page can be checked exactly, without running the engine) shows the align
// error of every layer at the three per-layer stages with the values that were undone, the joint
// pass epoch by epoch with the one kept, the perplexity and KL at each stage, and the new model in
// the library with the stage-1 model as its parent. Also the wizard's joint pass settings, checked
// in words and summed up before the start. Needs `npm run build:core && npm run build:ui`.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CalibrationResult } from '../../electron/api/contract.js';
import { AppCore } from '../../electron/core/app-core.js';
import { CALIBRATION_SCOPE } from '../../electron/core/calibration/report.js';
import { calibrateSettings } from '../../electron/core/calibration/settings.js';
import { jobKinds } from '../../electron/core/jobs/kinds.js';
import { writeSpikingConfig } from '../../electron/core/spiking/spiking-config.js';
import { writeTinyModel } from '../helpers/tiny-models.js';
import { ARTIFACTS } from './browser.js';
import { serveApp, type ServedApp, watchErrors } from './test-app.js';

const settle = (page: Page) => page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));

describe('calibration results, per neuron', () => {
  const temp = mkdtempSync(join(tmpdir(), 'fas-e2e-calibrate-results-'));
  const stage1Dir = join(temp, 'gpt2-stage1');
  const stage2Dir = join(temp, 'gpt2-stage2');
  const keptNoneDir = join(temp, 'gpt2-stage2-kept-none');
  const report: Omit<CalibrationResult, 'outDir'> = {
    timesteps: 8,
    level: 'neuron',
    samples: 32,
    blockSize: 128,
    layers: [
      {
        layer: 0,
        lambda: 2.1,
        before: 0.031,
        coarse: { theta: 1.7, v0: 0.9, loss: 0.012, startLoss: 0.031, referenceLoss: 0.02, kept: true },
        fine: { losses: [0.009, 0.007, 0.0061], kept: true },
      },
      {
        layer: 1,
        lambda: 1.9,
        before: 0.004,
        coarse: { theta: 1.1, v0: 0.5, loss: 9.5e-4, startLoss: 0.004, referenceLoss: 0.002, kept: true },
        fine: { losses: [8e-4, 7.1e-4, 6.6e-4], kept: true },
      },
      {
        layer: 2,
        lambda: 2.0,
        before: 0.0024,
        coarse: { theta: 0.96, v0: 0.46, loss: 4.7e-4, startLoss: 0.0024, referenceLoss: 0.001, kept: false },
        fine: { losses: [0.0021, 0.0019, 0.0018], kept: true },
      },
      {
        layer: 3,
        lambda: 2.0,
        before: 0.0019,
        coarse: { theta: 1.0, v0: 0.5, loss: 3.5e-4, startLoss: 0.0019, referenceLoss: 9e-4, kept: true },
        fine: { losses: [3.1e-4, 2.9e-4, 2.8e-4], kept: true },
      },
    ],
    calibrationKl: 0.0024,
    joint: {
      startKl: 0.0031,
      epochs: [
        { kl: 0.0042, align: 0.0095, calibrationKl: 0.0027 },
        { kl: 0.0029, align: 0.011, calibrationKl: 0.0024 },
        { kl: 0.0025, align: 0.012, calibrationKl: 0.0026 },
      ],
      kept: 2,
    },
    evaluations: {
      before: { qcfsPerplexity: 31.2, snnPerplexity: 47.5, kl: 0.081, tokens: 4096 },
      coarse: { qcfsPerplexity: 31.2, snnPerplexity: 34.1, kl: 0.012, tokens: 4096 },
      fine: { qcfsPerplexity: 31.2, snnPerplexity: 32.0, kl: 0.0042, tokens: 4096 },
      joint: { qcfsPerplexity: 31.2, snnPerplexity: 31.6, kl: 0.0035, tokens: 4096 },
    },
    scope: CALIBRATION_SCOPE,
  };
  /** The same run, but no joint epoch beat the KL it started from (the job's seed 2 returns it). */
  const keptNone: typeof report = { ...report, calibrationKl: 0.0031, joint: { ...report.joint!, epochs: report.joint!.epochs.slice(0, 1), kept: 0 } };
  /** What a run reports up to its joint pass's second epoch (as run-calibration.ts does; the job's seed 3 stops there). */
  const jointRows: Array<Record<string, number>> = [
    { stage: 0, layer: 0 },
    { stage: 0, layer: 0, alignLoss: 0.03 },
    { stage: 0 },
    { stage: 1, layer: 0 },
    { stage: 1, layer: 0, alignLoss: 0.01 },
    { stage: 1 },
    { stage: 2, layer: 0 },
    { stage: 2, layer: 0, alignLoss: 0.006 },
    { stage: 2 },
    { stage: 3 },
    { stage: 3, epoch: 1, kl: 0.0027 },
    { stage: 3, epoch: 2, kl: 0.0024 },
  ];
  let core: AppCore;
  let app: ServedApp;

  beforeAll(async () => {
    // The stage-1 model, and the folder the (pretended) calibration writes.
    await writeTinyModel(stage1Dir, 'gpt2');
    await writeSpikingConfig(stage1Dir, { L: 8, T: 8, neuron: 'if-soft-reset', signed: false, site: 'ffn_act', calibration: 'none' });
    await writeTinyModel(stage2Dir, 'gpt2');
    await writeSpikingConfig(stage2Dir, { L: 8, T: 8, neuron: 'if-soft-reset', signed: false, site: 'ffn_act', calibration: 'neuron' });
    await writeTinyModel(keptNoneDir, 'gpt2');
    await writeSpikingConfig(keptNoneDir, { L: 8, T: 8, neuron: 'if-soft-reset', signed: false, site: 'ffn_act', calibration: 'neuron' });
    const fixture = join(temp, 'canned-calibrate.mjs');
    writeFileSync(
      fixture,
      `const report = ${JSON.stringify(report)};
const keptNone = ${JSON.stringify(keptNone)};
export default { kind: 'calibrate', async run(params, ctx) {
  if (params.seed === 3) {
    // In the joint pass until cancelled, after the per-layer stages of a one-layer model.
    for (const metrics of ${JSON.stringify(jointRows)}) ctx.progress({ fraction: 0.8, message: 'Joint pass, every layer on the KL of the logits', metrics });
    await new Promise((stop) => ctx.signal.addEventListener('abort', stop));
    return null;
  }
  ctx.progress({ fraction: 0.5, message: 'Fine pass, layer 2 of 4', metrics: { layer: 1, alignLoss: 0.001 } });
  return { ...(params.seed === 2 ? keptNone : report), outDir: params.outDir };
} };
`,
    );
    core = new AppCore({
      workspaceDir: join(temp, 'workspace'),
      jobKinds: { ...jobKinds, calibrate: { ...jobKinds.calibrate, module: fixture, title: () => 'Calibrate gpt2-stage1 (T = 8)' } },
    });
    await core.call('models.open', { path: stage1Dir });
    app = await serveApp(core);
  });
  afterAll(() => app?.close());

  it('shows every stage per layer, what was undone, perplexity and KL, and the new model with its parent', async () => {
    const job = await core.call('jobs.start', { kind: 'calibrate', params: { modelDir: stage1Dir, dataPath: temp, outDir: stage2Dir, timesteps: 8 } });
    expect((await core.jobs.waitFor(job.id)).state).toBe('done');
    const models = await core.call('models.list', {});
    expect(models.find((m) => m.path === stage2Dir)).toMatchObject({ stage: 'calibrated', parentId: models.find((m) => m.path === stage1Dir)!.id });

    const page = await app.browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.setDefaultTimeout(15_000);
    const errors = watchErrors(page);
    await page.goto(`${app.server.url}#/calibrate/${job.id}`);
    const results = page.getByTestId('calibrate-results');
    await results.waitFor();
    await expect(results.getByTestId('new-model').innerText()).resolves.toBe(
      'gpt2-stage2 is in the Library as “Spiking, calibrated”, made from gpt2-stage1. It runs with T = 8, calibrated per neuron.',
    );
    const table = results.getByTestId('align-table');
    await expect(table.locator('thead th').allTextContents()).resolves.toEqual([
      'Layer',
      'Lambda',
      'Before calibration',
      'After the coarse pass',
      'After the fine pass',
      'Coarse threshold, starting charge',
    ]);
    await expect(table.locator('tbody tr').nth(2).locator('td').allInnerTexts()).resolves.toEqual(['2', '2.40e-3', '4.70e-4*', '1.80e-3', '0.96, 0.46']);
    await results.getByText(/^\* Undone: these values made the spiking model's output drift further/).waitFor();
    await expect(results.getByTestId('perplexity-table').locator('tbody tr').allInnerTexts()).resolves.toEqual([
      'Fine-tuned model (QCFS)\t31.2\t0',
      'Spiking, before calibration\t47.5\t8.10e-2',
      'Spiking, after the coarse pass\t34.1\t1.20e-2',
      'Spiking, after the fine pass\t32\t4.20e-3',
      'Spiking, after the joint pass\t31.6\t3.50e-3',
    ]);
    await expect(
      results.getByTestId('bar-chart').filter({ hasText: 'Perplexity, fine-tuned and spiking' }).getByRole('img').getAttribute('aria-label'),
    ).resolves.toContain('After the joint pass: spiking 31.6, fine-tuned 31.2');
    // The joint pass, epoch by epoch: the start, then each epoch, the kept one marked.
    const joint = results.getByTestId('joint-table');
    await expect(joint.locator('caption').textContent()).resolves.toBe('Joint pass: KL and align errors per epoch, and the epoch kept');
    await expect(joint.locator('thead th[scope=col]').allTextContents()).resolves.toEqual([
      'Epoch',
      'KL while stepping',
      'Sum of align errors',
      'KL on the calibration text',
    ]);
    await expect(joint.locator('tbody th[scope=row]').allTextContents()).resolves.toEqual(['Start', '1', '2', '3']);
    await expect(joint.locator('tbody tr').allInnerTexts()).resolves.toEqual([
      'Start\t–\t–\t3.10e-3',
      '1\t4.20e-3\t9.50e-3\t2.70e-3',
      '2\t2.90e-3\t1.10e-2\t2.40e-3 kept',
      '3\t2.50e-3\t1.20e-2\t2.60e-3',
    ]);
    expect(await results.getByText(/^No epoch brought the KL/).count()).toBe(0);
    await expect(results.getByTestId('bar-chart').filter({ hasText: 'Align error per layer' }).getByRole('img').getAttribute('aria-label')).resolves.toContain(
      'layer 2: before calibration 2.40e-3, after the coarse pass 4.70e-4, after the fine pass 1.80e-3',
    );
    await expect(results.getByTestId('scope').textContent()).resolves.toBe(CALIBRATION_SCOPE);
    await settle(page);
    await page.screenshot({ path: `${ARTIFACTS}calibrate-results-neuron.png`, fullPage: true });
    await page.getByRole('button', { name: /theme/ }).click();
    await page.setViewportSize({ width: 420, height: 900 });
    await settle(page);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}calibrate-results-neuron-narrow-dark.png`, fullPage: true });

    // The next step is one click away.
    await results.getByRole('link', { name: 'Evaluate it against T' }).click();
    await expect(page.getByRole('radio', { name: /gpt2-stage2/ }).isChecked()).resolves.toBe(true);
    expect(errors).toEqual([]);
  }, 60_000);

  it('says so when no joint epoch beat the start', async () => {
    const job = await core.call('jobs.start', { kind: 'calibrate', params: { modelDir: stage1Dir, dataPath: temp, outDir: keptNoneDir, seed: 2 } });
    expect((await core.jobs.waitFor(job.id)).state).toBe('done');
    const page = await app.browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.setDefaultTimeout(15_000);
    const errors = watchErrors(page);
    await page.goto(`${app.server.url}#/calibrate/${job.id}`);
    const results = page.getByTestId('calibrate-results');
    await results.getByTestId('joint-table').waitFor();
    await expect(results.getByTestId('joint-table').locator('tbody tr').allInnerTexts()).resolves.toEqual([
      'Start\t–\t–\t3.10e-3 kept',
      '1\t4.20e-3\t9.50e-3\t2.70e-3',
    ]);
    await results
      .getByText('No epoch brought the KL on the calibration text below where it started, so the values from before the joint pass were kept.')
      .waitFor();
    expect(errors).toEqual([]);
  }, 60_000);

  it('shows the KL after each joint epoch live, next to the per-layer align errors', async () => {
    const job = await core.call('jobs.start', {
      kind: 'calibrate',
      params: { modelDir: stage1Dir, dataPath: temp, outDir: join(temp, 'never-written'), seed: 3 },
    });
    const page = await app.browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.setDefaultTimeout(15_000);
    const errors = watchErrors(page);
    await page.goto(`${app.server.url}#/calibrate/${job.id}`);
    await page.getByRole('heading', { level: 2, name: 'How close it is, live' }).waitFor();
    const joint = page.getByTestId('calibrate-live-joint').getByRole('img');
    await expect.poll(() => joint.getAttribute('aria-label')).toContain('epoch 1 2.70e-3, epoch 2 2.40e-3');
    await expect(page.getByTestId('calibrate-live').getByRole('img').getAttribute('aria-label')).resolves.toContain('After the fine pass: layer 0 0.006');
    await settle(page);
    await page.screenshot({ path: `${ARTIFACTS}calibrate-running-joint.png`, fullPage: true });
    await core.call('jobs.cancel', { id: job.id });
    expect((await core.jobs.waitFor(job.id)).state).toBe('cancelled');
    expect(errors).toEqual([]);
  }, 60_000);

  it('offers the joint pass settings when tuning per neuron, checked and summed up in words', async () => {
    const page = await app.browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.setDefaultTimeout(15_000);
    const errors = watchErrors(page);
    const next = page.getByRole('button', { name: 'Next' });
    // Back from the last step, Advanced settings are folded again.
    const back = async () => {
      await page.getByRole('button', { name: 'Back' }).click();
      if (!(await page.locator('details.advanced').evaluate((d) => (d as HTMLDetailsElement).open))) await page.getByText('Advanced settings').click();
    };
    await page.goto(`${app.server.url}#/calibrate`);
    // The only fine-tuned model is chosen already, and a bundled text.
    await expect(page.getByRole('radio', { name: /gpt2-stage1/ }).isChecked()).resolves.toBe(true);
    await next.click();
    await next.click();
    await page.getByRole('heading', { name: /Step 3 of 4: Settings/ }).waitFor();
    await page.getByText('Advanced settings').click();
    await page.getByLabel('Block size').fill('16');
    const joint = page.getByRole('group', { name: 'Joint pass (per neuron)' });
    const jobDefaults = calibrateSettings.parse({ modelDir: stage1Dir, dataPath: temp, outDir: stage2Dir });
    await expect(joint.getByLabel('Joint pass epochs').inputValue()).resolves.toBe(String(jobDefaults.jointEpochs));
    await expect(joint.getByLabel('Joint pass learning rate').inputValue()).resolves.toBe(String(jobDefaults.jointLr));
    await expect(joint.getByLabel('Align loss weight').inputValue()).resolves.toBe('1');
    await expect(
      joint
        .getByLabel('Joint pass epochs')
        .getAttribute('aria-describedby')
        .then((hint) => page.locator(`[id="${hint}"]`).textContent()),
    ).resolves.toMatch(/^After the per-layer passes, tune every layer together .* 0 skips it\.$/);

    // Checked in words; 0 epochs is allowed and leaves the joint pass out of the plan.
    await joint.getByLabel('Joint pass epochs').fill('-1');
    await page.getByText('The joint pass epochs must be a whole number from 0 to 1,000 (0 skips the joint pass).').first().waitFor();
    expect(await next.isDisabled()).toBe(true);
    await joint.getByLabel('Align loss weight').fill('-2');
    await joint.getByLabel('Joint pass epochs').fill('0');
    await page.getByText('The align loss weight must be a number from 0 to 1,000,000.').first().waitFor();
    await joint.getByLabel('Align loss weight').fill('0.5');
    await next.click();
    await expect(page.locator('.review').textContent()).resolves.toContain(
      'T = 8, per neuron (coarse, then fine pass), on 32 samples of 16 tokens, 4 epochs per layer',
    );
    await back();
    await joint.getByLabel('Joint pass epochs').fill('3');
    await next.click();
    await expect(page.locator('.review').textContent()).resolves.toContain(
      'T = 8, per neuron (coarse, fine and joint passes), on 32 samples of 16 tokens, 4 epochs per layer, 3 joint epochs',
    );

    // Per layer there is no joint pass: its fields are off, and what they hold cannot block the run.
    await back();
    await joint.getByLabel('Joint pass epochs').fill('-1');
    await page.getByRole('radio', { name: /^Per layer/ }).check();
    await expect(joint.getByLabel('Joint pass epochs').isDisabled()).resolves.toBe(true);
    await joint.getByText('Only used when tuning per neuron.').waitFor();
    expect(await next.isDisabled()).toBe(false);
    await settle(page);
    await page.screenshot({ path: `${ARTIFACTS}calibrate-joint-settings.png`, fullPage: true });

    // The FAS reference code's recipe sets the level and both passes itself: their fields are off.
    await page.getByRole('radio', { name: /^As in the FAS reference code/ }).check();
    await expect(page.getByRole('radio', { name: /^Per neuron/ }).isDisabled()).resolves.toBe(true);
    await expect(joint.getByLabel('Joint pass learning rate').isDisabled()).resolves.toBe(true);
    await joint.getByText(/^The reference recipe sets these: 3 epochs at 0.003/).waitFor();
    await next.click();
    await expect(page.locator('.review').textContent()).resolves.toContain(
      'T = 8, as in the FAS reference code (per position and neuron, 3 epochs), on 32 samples of 16 tokens',
    );
    expect(errors).toEqual([]);
  }, 60_000);
});
