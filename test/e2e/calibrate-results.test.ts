// The results of a per-neuron calibration in headless Chromium: a 'calibrate' kind that returns a
// known report (so the page can be checked exactly, without running the engine) shows the align
// error of every layer at the three stages with the values that were undone, the perplexity and KL
// at each stage, and the new model in the library with the stage-1 model as its parent.
// Needs `npm run build:core && npm run build:ui`.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CalibrationResult } from '../../electron/api/contract.js';
import { AppCore } from '../../electron/core/app-core.js';
import { CALIBRATION_SCOPE } from '../../electron/core/calibration/report.js';
import { calibrateSettings } from '../../electron/core/calibration/settings.js';
import { jobKinds } from '../../electron/core/jobs/kinds.js';
import { writeSpikingConfig } from '../../electron/core/spiking/spiking-config.js';
import { startServer, type RunningServer } from '../../electron/server/http-server.js';
import { builtUiDir } from '../../electron/server/ui-server.js';
import { writeTinyModel } from '../helpers/tiny-models.js';
import { ARTIFACTS, launchBrowser } from './browser.js';
import { watchErrors } from './test-app.js';

const settle = (page: Page) => page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));

describe('calibration results, per neuron', () => {
  const temp = mkdtempSync(join(tmpdir(), 'fas-e2e-calibrate-results-'));
  const stage1Dir = join(temp, 'gpt2-stage1');
  const stage2Dir = join(temp, 'gpt2-stage2');
  const report: Omit<CalibrationResult, 'outDir'> = {
    timesteps: 8,
    level: 'neuron',
    samples: 32,
    blockSize: 128,
    layers: [
      { layer: 0, lambda: 2.1, before: 0.031, coarse: { theta: 1.7, v0: 0.9, loss: 0.012, startLoss: 0.031, referenceLoss: 0.02, kept: true }, fine: { losses: [0.009, 0.007, 0.0061], kept: true } },
      { layer: 1, lambda: 1.9, before: 0.004, coarse: { theta: 1.1, v0: 0.5, loss: 9.5e-4, startLoss: 0.004, referenceLoss: 0.002, kept: true }, fine: { losses: [8e-4, 7.1e-4, 6.6e-4], kept: true } },
      { layer: 2, lambda: 2.0, before: 0.0024, coarse: { theta: 0.96, v0: 0.46, loss: 4.7e-4, startLoss: 0.0024, referenceLoss: 0.001, kept: false }, fine: { losses: [0.0021, 0.0019, 0.0018], kept: true } },
      { layer: 3, lambda: 2.0, before: 0.0019, coarse: { theta: 1.0, v0: 0.5, loss: 3.5e-4, startLoss: 0.0019, referenceLoss: 9e-4, kept: true }, fine: { losses: [3.1e-4, 2.9e-4, 2.8e-4], kept: true } },
    ],
    calibrationKl: 0.0031,
    evaluations: {
      before: { qcfsPerplexity: 31.2, snnPerplexity: 47.5, kl: 0.081, tokens: 4096 },
      coarse: { qcfsPerplexity: 31.2, snnPerplexity: 34.1, kl: 0.012, tokens: 4096 },
      fine: { qcfsPerplexity: 31.2, snnPerplexity: 32.0, kl: 0.0042, tokens: 4096 },
    },
    scope: CALIBRATION_SCOPE,
  };
  let core: AppCore;
  let server: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    // The stage-1 model, and the folder the (pretended) calibration writes.
    await writeTinyModel(stage1Dir, 'gpt2');
    await writeSpikingConfig(stage1Dir, { L: 8, T: 8, neuron: 'if-soft-reset', signed: false, site: 'ffn_act', calibration: 'none' });
    await writeTinyModel(stage2Dir, 'gpt2');
    await writeSpikingConfig(stage2Dir, { L: 8, T: 8, neuron: 'if-soft-reset', signed: false, site: 'ffn_act', calibration: 'neuron' });
    const fixture = join(temp, 'canned-calibrate.mjs');
    writeFileSync(
      fixture,
      `const report = ${JSON.stringify(report)};
export default { kind: 'calibrate', async run(params, ctx) {
  ctx.progress({ fraction: 0.5, message: 'Fine pass, layer 2 of 4', metrics: { layer: 1, alignLoss: 0.001 } });
  return { ...report, outDir: params.outDir };
} };
`,
    );
    core = new AppCore({
      workspaceDir: join(temp, 'workspace'),
      jobKinds: { ...jobKinds, calibrate: { module: fixture, params: calibrateSettings, title: () => 'Calibrate gpt2-stage1 (T = 8)' } },
    });
    await core.call('models.open', { path: stage1Dir });
    [server, browser] = await Promise.all([startServer({ core, uiDir: builtUiDir() }), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows every stage per layer, what was undone, perplexity and KL, and the new model with its parent', async () => {
    const job = await core.call('jobs.start', { kind: 'calibrate', params: { modelDir: stage1Dir, dataPath: temp, outDir: stage2Dir, timesteps: 8 } });
    expect((await core.jobs.waitFor(job.id)).state).toBe('done');
    const models = await core.call('models.list', {});
    expect(models.find((m) => m.path === stage2Dir)).toMatchObject({ stage: 'calibrated', parentId: models.find((m) => m.path === stage1Dir)!.id });

    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.setDefaultTimeout(15_000);
    const errors = watchErrors(page);
    await page.goto(`${server.url}#/calibrate/${job.id}`);
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
    ]);
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
});
