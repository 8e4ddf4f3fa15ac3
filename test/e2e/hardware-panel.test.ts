import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNative } from '../../native/index.js';
import type { RunningServer } from '../../electron/server/http-server.js';
import { startUiServer } from '../../electron/server/ui-server.js';
import { ARTIFACTS, launchBrowser } from './browser.js';

describe('served app in headless Chromium', () => {
  let server: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startUiServer({ port: 0, workspaceDir: mkdtempSync(join(tmpdir(), 'fas-e2e-hardware-')) });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows the hardware panel filled from the real addon', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`${server.url}#/computer`);
    await expect(page.getByRole('heading', { level: 1, name: 'This computer' }).isVisible()).resolves.toBe(true);
    const hw = loadNative().hardware();
    await page.getByTestId('cpu-model').waitFor();
    expect(await page.getByTestId('cpu-model').textContent()).toBe(hw.cpuModel);
    expect(await page.getByTestId('cores').textContent()).toContain(`${hw.physicalCores} cores, ${hw.logicalCores} threads`);
    expect(await page.getByTestId('backend').textContent()).toContain(hw.cuda.usable ? 'GPU' : 'CPU');
    await page.screenshot({ path: `${ARTIFACTS}hardware-panel.png`, fullPage: true });
    expect(errors).toEqual([]);
  });

  it('switches between light and dark themes from the keyboard', async () => {
    const page = await browser.newPage();
    await page.goto(server.url);
    const before = await page.evaluate(() => document.documentElement.dataset.theme);
    await page.getByRole('button', { name: /theme/ }).focus();
    await page.keyboard.press('Enter');
    const after = await page.evaluate(() => document.documentElement.dataset.theme);
    expect(after).not.toBe(before);
    expect(['light', 'dark']).toContain(after);
  });
});
