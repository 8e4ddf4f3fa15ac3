// Guard-rails a first-time user meets in the wizards: a job that will not fit in memory cannot be
// started, and the advice names the setting that made it too big (T here). The free memory the core
// sees is pinned, so the verdict does not depend on the machine.
// Needs `npm run build:core && npm run build:ui`.
import { mkdtempSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ModelEntry } from '../../electron/api/contract.js';
import { AppCore } from '../../electron/core/app-core.js';
import { writeConvertedChatModel } from '../unit/chat/helpers.js';
import { ARTIFACTS } from './browser.js';
import { serveApp, type ServedApp, watchErrors } from './test-app.js';

describe('wizard guard-rails', () => {
  const temp = mkdtempSync(join(tmpdir(), 'fas-e2e-guard-rails-'));
  let core: AppCore;
  let app: ServedApp;
  let model: ModelEntry;

  beforeAll(async () => {
    core = new AppCore({ workspaceDir: join(temp, 'workspace') });
    model = await core.call('models.open', { path: await writeConvertedChatModel(join(temp, 'tiny-spiking'), { contextLength: 256, timesteps: 4 }) });
    app = await serveApp(core);
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await app?.close();
  });

  it('stops a job that will not fit, naming T as what to lower, and lets it go once T is lowered', async () => {
    const estimate = (timesteps: number) => core.call('models.estimate', { id: model.id, job: 'evaluate', batchSize: 4, blockSize: 128, timesteps });
    const [usual, huge] = await Promise.all([estimate(8), estimate(1024)]);
    // Room for T = 8 with ease, not for T = 1024.
    const free = 2 * usual.totalBytes;
    expect(huge.totalBytes).toBeGreaterThan(free);
    vi.spyOn(os, 'freemem').mockReturnValue(free);

    const page = await app.browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.setDefaultTimeout(15_000);
    const errors = watchErrors(page);
    await page.goto(`${app.server.url}#/evaluate`);
    const next = page.getByRole('button', { name: 'Next' });
    await page.getByRole('radio', { name: /tiny-spiking/ }).check();
    await next.click();
    await page.getByRole('heading', { name: /Step 2 of 4/ }).waitFor();
    await next.click();
    await page.getByRole('heading', { name: /Step 3 of 4/ }).waitFor();

    const field = page.getByLabel('Timesteps (T) to measure');
    await field.fill('4, 1024');
    const verdict = page.getByTestId('memory-verdict');
    await verdict.filter({ hasText: /^Will not fit: .* Lower the timesteps T \(now 1024\)\.$/ }).waitFor();
    await expect.poll(() => next.isDisabled()).toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}guard-rails-will-not-fit.png`, fullPage: true });

    await field.fill('4, 8');
    await verdict.filter({ hasText: /^Fits: / }).waitFor();
    await expect.poll(() => next.isDisabled()).toBe(false);
    await next.click();
    await page.getByRole('heading', { name: /Step 4 of 4/ }).waitFor();
    expect(await page.getByRole('button', { name: 'Start evaluating' }).isDisabled()).toBe(false);
    expect(errors).toEqual([]);
    await page.close();
  });
});
