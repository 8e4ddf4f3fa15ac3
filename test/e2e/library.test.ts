import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSpikingConfig } from '../../electron/core/spiking/spiking-config.js';
import { writeTinyModel } from '../helpers/tiny-models.js';
import { ARTIFACTS, launchBrowser } from './browser.js';
import { startTestApp, watchErrors, type TestApp } from './test-app.js';

describe('Library page', () => {
  let app: TestApp;
  let browser: Browser;
  const models = mkdtempSync(join(tmpdir(), 'fas-e2e-models-'));

  beforeAll(async () => {
    [app, browser] = await Promise.all([startTestApp(), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('opens a model folder, shows its details, and removes it after asking', async () => {
    const dir = join(models, 'tiny-llama');
    await writeTinyModel(dir, 'llama');
    const page = await browser.newPage();
    const errors = watchErrors(page);
    await page.goto(`${app.server.url}#/library`);
    await page.getByText('No models yet').waitFor();

    await page.getByLabel('Folder path').fill(dir);
    await page.getByRole('button', { name: 'Open folder' }).click();
    const card = page.getByTestId('model-card').filter({ hasText: 'tiny-llama' });
    await card.waitFor();
    expect(await card.getByTestId('stage').textContent()).toBe('Original');
    expect(await card.getByTestId('architecture').textContent()).toBe('LLaMA');
    const [entry] = await app.core.call('models.list', {});
    expect(await card.getByTestId('parameters').textContent()).toBe(entry!.summary!.parameterCount.toLocaleString('en'));
    expect(await card.getByTestId('memory').textContent()).toMatch(/^about \d+(\.\d)? (KiB|MiB)/);
    await expect(card.textContent()).resolves.toContain('32-bit float (F32)');
    expect(await page.getByRole('status').first().textContent()).toContain('Opened "tiny-llama"');
    expect(await page.getByLabel('Folder path').inputValue()).toBe('');

    await card.getByRole('button', { name: 'Remove' }).click();
    // The safe choice has focus; Escape keeps the model.
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Keep it');
    await card.screenshot({ path: `${ARTIFACTS}library-confirm-remove.png` });
    await page.keyboard.press('Escape');
    await card.getByRole('button', { name: 'Remove' }).click();
    await card.getByRole('group').getByRole('button', { name: 'Remove' }).click();
    await page.getByText('No models yet').waitFor();
    expect(await app.core.call('models.list', {})).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('explains why a folder is rejected, and copies diagnostics', async () => {
    const empty = mkdtempSync(join(models, 'empty-'));
    const context = await browser.newContext();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.server.url });
    const page = await context.newPage();
    await page.goto(`${app.server.url}#/library`);
    await page.getByLabel('Folder path').fill(empty);
    await page.keyboard.press('Enter');
    const box = page.getByTestId('error-box');
    await box.waitFor();
    const expected = await app.core.handle('models.open', { path: empty });
    expect(expected.ok).toBe(false);
    expect(await box.getByRole('alert').textContent()).toBe(!expected.ok && expected.error.message);
    expect(await box.textContent()).toContain('config.json');

    await box.getByRole('button', { name: 'Copy diagnostics' }).click();
    await box.getByText('Diagnostics copied').waitFor();
    await page.screenshot({ path: `${ARTIFACTS}library-rejected-folder.png` });
    const copied = JSON.parse(await page.evaluate(() => navigator.clipboard.readText()));
    expect(copied).toMatchObject({ doing: 'Opening a model folder', details: { path: empty }, app: { name: 'FAS Spiking LLM' } });
    expect(copied.message).toContain('config.json');
    expect(copied.hardware.cores).toMatch(/cores/);
    expect(Date.parse(copied.time)).not.toBeNaN();
    await context.close();
  });

  it('shows lineage, the spiking stage, and a folder that has gone', async () => {
    const parentDir = join(models, 'base');
    const childDir = join(models, 'base-spiking');
    await writeTinyModel(parentDir, 'gpt2');
    await writeTinyModel(childDir, 'gpt2');
    await writeSpikingConfig(childDir, { L: 8, T: 16, neuron: 'if-soft-reset', signed: false, site: 'ffn_act', calibration: 'neuron' });
    const parent = await app.core.library.open(parentDir);
    await app.core.library.open(childDir, { name: 'base (spiking)', parentId: parent.id });
    rmSync(parentDir, { recursive: true });

    const page = await browser.newPage();
    await page.goto(`${app.server.url}#/library`);
    const child = page.getByTestId('model-card').filter({ hasText: 'base (spiking)' });
    await child.waitFor();
    expect(await child.getByTestId('stage').textContent()).toBe('Spiking, calibrated');
    expect(await child.textContent()).toContain('Made from base');
    expect(await child.textContent()).toContain('T = 16 timesteps, L = 8 levels');
    const gone = page.getByTestId('model-card').filter({ hasText: 'cannot be used right now' });
    expect(await gone.getByRole('heading').textContent()).toBe('base');
    expect(await gone.textContent()).toContain(parentDir);
  });
});
