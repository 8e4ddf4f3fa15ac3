import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import type { Browser } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, launchBrowser } from './browser.js';
import { startTestApp, watchErrors, type TestApp } from './test-app.js';

describe('wizard pieces: WizardFrame and PresetPicker', () => {
  let app: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'fas-harness-'));
    await build({
      configFile: false,
      logLevel: 'warn',
      root: fileURLToPath(new URL('./harness', import.meta.url)),
      base: './',
      plugins: [svelte()],
      build: { outDir, emptyOutDir: true, target: 'es2022' },
    });
    [app, browser] = await Promise.all([startTestApp({ uiDir: outDir }), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('steps through with Back/Next, blocks Next with a reason, and folds Advanced settings away', async () => {
    const page = await browser.newPage();
    const errors = watchErrors(page);
    await page.goto(app.server.url);
    const next = page.getByRole('button', { name: 'Next' });
    expect(await next.isDisabled()).toBe(true);
    expect(await page.getByText('Type a model name first.').isVisible()).toBe(true);
    expect(await page.locator('[aria-current=step]').textContent()).toContain('Choose a model');

    await page.getByLabel('Model', { exact: true }).fill('tiny-gpt2');
    await next.click();
    const heading = page.getByRole('heading', { name: /Step 2 of 2: Training/ });
    await expect.poll(() => heading.evaluate((h) => h === document.activeElement)).toBe(true);
    expect(await page.getByLabel('Learning rate').isVisible()).toBe(false);
    await page.getByText('Advanced settings').click();
    await page.getByLabel('Learning rate').fill('0.5');
    await page.getByRole('button', { name: 'Restore defaults' }).click();
    expect(await page.getByLabel('Learning rate').inputValue()).toBe('0.0001');

    await page.getByRole('button', { name: 'Back' }).click();
    expect(await page.getByLabel('Model', { exact: true }).inputValue()).toBe('tiny-gpt2');
    await next.click();
    await page.getByRole('button', { name: 'Start' }).click();
    expect(JSON.parse((await page.getByTestId('finished').textContent())!)).toEqual({ model: 'tiny-gpt2', steps: 200, learningRate: 0.0001 });
    expect(errors).toEqual([]);
  });

  it('saves the current settings as a preset, uses it later, and deletes it', async () => {
    const page = await browser.newPage();
    const errors = watchErrors(page);
    await page.goto(app.server.url);
    await page.getByLabel('Model', { exact: true }).fill('my-model');
    await page.getByRole('button', { name: 'Save current as…' }).click();
    await page.getByLabel('Preset name').fill('My recipe');
    await page.keyboard.press('Enter');
    await page.getByText('Saved "My recipe".').waitFor();
    expect(await app.core.call('presets.list', { kind: 'harness' })).toMatchObject([{ name: 'My recipe', values: { model: 'my-model', steps: 200 } }]);

    // Saving under an existing name says it replaces it.
    await page.getByRole('button', { name: 'Save current as…' }).click();
    expect(await page.getByLabel('Preset name').inputValue()).toBe('My recipe');
    expect(await page.getByRole('button', { name: 'Replace' }).isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Cancel' }).click();

    await page.reload();
    expect(await page.getByLabel('Model', { exact: true }).inputValue()).toBe('');
    await page.getByLabel('Saved settings').selectOption('My recipe');
    await page.getByRole('button', { name: 'Use' }).click();
    expect(await page.getByLabel('Model', { exact: true }).inputValue()).toBe('my-model');
    await page.screenshot({ path: `${ARTIFACTS}wizard-pieces.png`, fullPage: true });

    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('group').getByRole('button', { name: 'Delete' }).click();
    await page.getByText('Deleted "My recipe".').waitFor();
    expect(await app.core.call('presets.list', { kind: 'harness' })).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('shows a refused preset name in words', async () => {
    const page = await browser.newPage();
    await page.goto(app.server.url);
    await page.getByRole('button', { name: 'Save current as…' }).click();
    await page.getByLabel('Preset name').fill('two\tparts');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByTestId('error-box').getByRole('alert').textContent()).resolves.toContain('control characters');
  });
});
