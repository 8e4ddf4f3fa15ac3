// The calibrate wizard on a model that spikes at every layer (scope "all"): it needs no calibration,
// so the wizard asks for no text and nothing but T (three steps), the job runs without a dataPath
// and writes the folder at T, and the run's page says so. The real calibrate job, on a tiny model.
// Needs `npm run build:core && npm run build:ui`.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppCore } from '../../electron/core/app-core.js';
import { readSpikingConfig } from '../../electron/core/spiking/spiking-config.js';
import { writeAllScopeModel } from '../helpers/spiking-all.js';
import { ARTIFACTS } from './browser.js';
import { serveApp, type ServedApp, watchErrors } from './test-app.js';

describe('calibrating a model that spikes at every layer', () => {
  const temp = mkdtempSync(join(tmpdir(), 'fas-e2e-calibrate-all-'));
  let core: AppCore;
  let app: ServedApp;

  beforeAll(async () => {
    const stage1 = join(temp, 'tiny-all');
    await writeAllScopeModel(stage1, 'gpt2', 8);
    core = new AppCore({ workspaceDir: join(temp, 'workspace') });
    await core.call('models.open', { path: stage1 });
    app = await serveApp(core);
  });
  afterAll(() => app?.close());

  it('asks only for T, starts without text, and writes the model at T', async () => {
    const page = await app.browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.setDefaultTimeout(15_000);
    const errors = watchErrors(page);
    const next = page.getByRole('button', { name: 'Next' });
    await page.goto(`${app.server.url}#/calibrate`);
    await page.getByRole('heading', { name: 'Step 1 of 3: Model' }).waitFor();
    await expect.poll(() => page.getByRole('radio', { name: /tiny-all/ }).isChecked()).toBe(true);
    await page.getByTestId('no-calibration-needed').waitFor();

    await next.click();
    await page.getByRole('heading', { name: 'Step 2 of 3: Settings' }).waitFor();
    await page.getByTestId('no-calibration-needed-settings').waitFor();
    expect(await page.getByLabel('Calibration samples').count()).toBe(0);
    expect(await page.getByTestId('memory-estimate').count()).toBe(0);
    await page.getByLabel('Timesteps (T)', { exact: true }).fill('4');

    await next.click();
    await page.getByRole('heading', { name: 'Step 3 of 3: Start' }).waitFor();
    const review = await page.locator('.review').textContent();
    expect(review).toContain('T = 4, written as it is: it needs no calibration');
    expect(review).toContain('Hardly any: nothing is computed.');
    expect(review).not.toContain('Text');
    await page.screenshot({ path: join(ARTIFACTS, 'calibrate-every-layer-review.png'), fullPage: true });
    await page.getByRole('button', { name: 'Start calibrating' }).click();

    await page.waitForURL(/#\/calibrate\/.+/);
    const id = decodeURIComponent(page.url().split('#/calibrate/')[1]!);
    const done = await core.jobs.waitFor(id);
    expect(done.state).toBe('done');
    expect(done.params).not.toHaveProperty('dataPath');
    expect(done.result).toMatchObject({ notNeeded: true, timesteps: 4 });
    expect(await readSpikingConfig((done.params as { outDir: string }).outDir)).toMatchObject({ scope: 'all', T: 4, calibration: 'none' });
    expect(errors).toEqual([]);
  }, 60_000);
});
