import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { launchBrowser } from './browser.js';
import { startTestApp, watchErrors, type TestApp } from './test-app.js';

/** How many pixels of the chart's canvas have exactly this colour (#rrggbb). */
function pixelsOf(page: Page, color: string): Promise<number> {
  return page.evaluate((hex) => {
    const canvas = document.querySelector<HTMLCanvasElement>('[data-testid=metric-chart] canvas')!;
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let count = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i] === r && data[i + 1] === g && data[i + 2] === b) count++;
    return count;
  }, color);
}

const accent = (page: Page) => page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--accent').trim());

/**
 * A hold file for count jobs (their holdFile parameter), removed when the test ends however it ends:
 * jobs run one at a time, so a job left holding would stall every later test.
 */
function holdJobs(): string {
  const holdFile = join(mkdtempSync(join(tmpdir(), 'fas-e2e-hold-')), 'hold');
  writeFileSync(holdFile, '');
  onTestFinished(() => rmSync(holdFile, { force: true }));
  return holdFile;
}

describe('Runs page', () => {
  let app: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    [app, browser] = await Promise.all([startTestApp(), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('follows a job live to Done and charts its metrics', async () => {
    const page = await browser.newPage();
    const errors = watchErrors(page);
    await page.goto(`${app.server.url}#/runs`);
    await page.getByText('No runs yet').waitFor();

    // The job holds at step 6 of 12 while the page shows it running.
    const holdFile = holdJobs();
    const job = await app.count({ steps: 12, holdFile, holdAt: 6 });
    const run = page.locator(`[data-job-id="${job.id}"]`);
    const bar = run.getByRole('progressbar', { name: 'Count to 12' });
    await bar.waitFor();
    await expect.poll(() => bar.getAttribute('aria-valuenow'), { timeout: 20_000 }).toBe('50');
    expect(await run.getByTestId('percent').textContent()).toBe('50%');
    await run.getByText('less than a minute left').waitFor();
    await expect(page.getByRole('link', { name: /Runs/ }).textContent()).resolves.toContain('1 active');
    rmSync(holdFile);
    await run.getByTestId('job-state').filter({ hasText: 'Done' }).waitFor();
    expect(await run.getByTestId('job-message').textContent()).toBe('Finished');
    expect(await bar.count()).toBe(0);

    await run.getByRole('link', { name: 'Count to 12' }).click();
    expect(page.url()).toContain(`#/runs/${job.id}`);
    await page.getByRole('heading', { level: 1, name: 'Count to 12' }).waitFor();
    const chart = page.getByTestId('metric-chart');
    await chart.waitFor();
    expect(await chart.count()).toBe(1);
    expect(await chart.locator('figcaption').textContent()).toContain('latest 0.08333 at step 12');
    expect(await chart.locator('canvas').evaluate((c: HTMLCanvasElement) => c.width > 0 && c.height > 0)).toBe(true);
    expect(await page.getByText('took').count()).toBe(1);

    // The chart takes the theme's colours, and follows a switch without being re-created.
    const before = await accent(page);
    expect(await pixelsOf(page, before)).toBeGreaterThan(50);
    await page.getByRole('button', { name: /theme/ }).click();
    const after = await accent(page);
    expect(after).not.toBe(before);
    expect(await pixelsOf(page, after)).toBeGreaterThan(50);
    expect(await pixelsOf(page, before)).toBe(0);
    expect(errors).toEqual([]);
  });

  it('grows the chart live while the detail view is open', async () => {
    // The job holds at step 5 until the page has shown it.
    const holdFile = holdJobs();
    const job = await app.count({ steps: 15, holdFile, holdAt: 5 });
    const page = await browser.newPage();
    await page.goto(`${app.server.url}#/runs/${job.id}`);
    const caption = page.getByTestId('metric-chart').locator('figcaption');
    await caption.filter({ hasText: 'at step 5' }).waitFor();
    rmSync(holdFile);
    await page.getByTestId('job-state').filter({ hasText: 'Done' }).waitFor();
    await expect(caption.textContent()).resolves.toContain('at step 15');
    const label = await page.getByRole('img', { name: /Line chart of loss/ }).getAttribute('aria-label');
    expect(label).toContain('15 points');
  });

  it('cancels a job from the UI, shows a failed job in words, and keeps runs across reloads and restarts', async () => {
    const long = await app.count({ steps: 2000, delayMs: 50 });
    const failing = await app.count({ steps: 5, fail: true });
    const page = await browser.newPage();
    await page.goto(`${app.server.url}#/runs`);
    const run = page.locator(`[data-job-id="${long.id}"]`);
    await run.getByRole('progressbar').waitFor();
    await run.getByRole('button', { name: 'Cancel' }).click();
    await run.getByRole('button', { name: 'Stop it' }).click();
    await run.getByTestId('job-state').filter({ hasText: 'Cancelled' }).waitFor();

    const failed = page.locator(`[data-job-id="${failing.id}"]`);
    await failed.getByTestId('job-state').filter({ hasText: 'Failed' }).waitFor();
    await failed.getByRole('link').click();
    await expect(page.getByTestId('error-box').getByRole('alert').textContent()).resolves.toBe('The data ran out at step 2.');

    await page.goto(`${app.server.url}#/runs`);
    await page.reload();
    await page.locator(`[data-job-id="${long.id}"]`).getByTestId('job-state').filter({ hasText: 'Cancelled' }).waitFor();
    expect(await page.getByTestId('run').count()).toBe(4);

    // A new core on the same workspace (an app restart) lists the same runs.
    const restarted = await startTestApp({ workspaceDir: app.workspaceDir });
    try {
      await page.goto(`${restarted.server.url}#/runs`);
      await page.getByTestId('run').nth(3).waitFor();
      const states = await page.getByTestId('job-state').allTextContents();
      expect(states).toEqual(['Failed', 'Cancelled', 'Done', 'Done']);
    } finally {
      await restarted.close();
    }
  });
});
