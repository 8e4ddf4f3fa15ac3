import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSpikingConfig } from '../../electron/core/spiking/spiking-config.js';
import { writeTinyModel } from '../helpers/tiny-models.js';
import { ARTIFACTS, launchBrowser } from './browser.js';
import { startTestApp, watchErrors, type TestApp } from './test-app.js';

const focused = (page: Page) => page.evaluate(() => `${document.activeElement?.tagName} ${document.activeElement?.textContent?.trim()}`);

describe('app shell', () => {
  let app: TestApp;
  let browser: Browser;
  let doneJobId: string;
  let failedJobId: string;

  beforeAll(async () => {
    [app, browser] = await Promise.all([startTestApp(), launchBrowser()]);
    // Real content for every page: models at each stage, one whose folder is gone, and runs in each state.
    const models = mkdtempSync(join(tmpdir(), 'fas-e2e-models-'));
    await writeTinyModel(join(models, 'tiny-gpt2'), 'gpt2');
    await writeTinyModel(join(models, 'tiny-gpt2-spiking'), 'gpt2');
    await writeSpikingConfig(join(models, 'tiny-gpt2-spiking'), {
      L: 8,
      T: 16,
      neuron: 'if-soft-reset',
      signed: false,
      site: 'ffn_act',
      calibration: 'neuron',
    });
    await writeTinyModel(join(models, 'moved-away'), 'opt', { dtype: 'F16' });
    const parent = await app.core.call('models.open', { path: join(models, 'tiny-gpt2') });
    await app.core.library.open(join(models, 'tiny-gpt2-spiking'), { parentId: parent.id });
    await app.core.call('models.open', { path: join(models, 'moved-away') });
    rmSync(join(models, 'moved-away'), { recursive: true });

    doneJobId = (await app.count({ steps: 40, delayMs: 2 })).id;
    const failed = await app.count({ steps: 5, fail: true });
    const cancelled = await app.count({ steps: 5000, delayMs: 20 });
    failedJobId = failed.id;
    await app.core.jobs.waitFor(failed.id);
    await app.core.call('jobs.cancel', { id: cancelled.id });
    await app.core.jobs.waitFor(cancelled.id);
    await app.count({ steps: 2000, delayMs: 15 });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('moves between pages with the keyboard alone, focusing each new page', async () => {
    const page = await browser.newPage();
    const errors = watchErrors(page);
    await page.goto(`${app.server.url}#/library`);
    await page.getByRole('heading', { level: 1, name: 'Library' }).waitFor();

    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('A Skip to content');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('A Library');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('A Convert');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('A Fine-tune');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('A Calibrate');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('A Evaluate');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/runs$/);
    await expect.poll(() => focused(page)).toBe('H1 Runs');

    await page.keyboard.press('Shift+Tab');
    expect(await focused(page)).toMatch(/^BUTTON (Light|Dark) theme$/);
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/computer$/);
    await expect.poll(() => focused(page)).toBe('H1 This computer');
    expect(await page.getByRole('link', { name: 'This computer' }).getAttribute('aria-current')).toBe('page');

    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'This computer' }).waitFor();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await expect.poll(() => focused(page)).toBe('H1 This computer');
    expect(page.url()).toMatch(/#\/computer$/);

    await page.goto(`${app.server.url}#/no-such-page`);
    await page.getByRole('heading', { level: 1, name: 'Library' }).waitFor();
    expect(page.url()).toMatch(/#\/library$/);
    expect(errors).toEqual([]);

    // Opened without an address, the app starts on the first page, and Tab reaches the skip link first.
    const fresh = await browser.newPage();
    await fresh.goto(app.server.url);
    await fresh.getByRole('heading', { level: 1, name: 'Library' }).waitFor();
    expect(fresh.url()).toMatch(/#\/library$/);
    await fresh.keyboard.press('Tab');
    expect(await focused(fresh)).toBe('A Skip to content');
  });

  it('switches themes from the keyboard and remembers the choice', async () => {
    const page = await browser.newPage();
    await page.goto(app.server.url);
    const before = await page.evaluate(() => document.documentElement.dataset.theme);
    await page.getByRole('button', { name: /theme/ }).focus();
    await page.keyboard.press('Enter');
    const after = await page.evaluate(() => document.documentElement.dataset.theme);
    expect(after).not.toBe(before);
    await page.reload();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe(after);
  });

  it('takes a screenshot of every page in light and dark themes, wide and 420 px narrow', async () => {
    const shots: Array<[string, string, (page: Page) => Promise<void>]> = [
      ['library', '#/library', (p) => p.getByTestId('model-card').nth(2).waitFor()],
      ['runs', '#/runs', (p) => p.getByRole('progressbar').waitFor()],
      ['run-detail', `#/runs/${doneJobId}`, (p) => p.getByTestId('metric-chart').getByText('latest').waitFor()],
      ['run-failed', `#/runs/${failedJobId}`, (p) => p.getByTestId('error-box').waitFor()],
      ['computer', '#/computer', (p) => p.getByTestId('cpu-model').waitFor()],
    ];
    for (const theme of ['light', 'dark'] as const) {
      for (const width of [1100, 420]) {
        const context = await browser.newContext({ colorScheme: theme, viewport: { width, height: 800 } });
        const page = await context.newPage();
        const errors = watchErrors(page);
        for (const [name, hash, ready] of shots) {
          await page.goto(`${app.server.url}${hash}`);
          await ready(page);
          expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe(theme);
          // Nothing may stick out sideways at any width.
          expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
          await page.screenshot({ path: `${ARTIFACTS}${name}-${theme}${width === 420 ? '-420px' : ''}.png`, fullPage: true });
        }
        expect(errors).toEqual([]);
        await context.close();
      }
    }
  }, 90_000); // Every page in two themes at two widths: on an overloaded machine that takes longer than the 30 s default.
});
