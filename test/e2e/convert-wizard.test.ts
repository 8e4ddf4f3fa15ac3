// The Convert wizard in headless Chromium against the real core and engine, on a tiny GPT-2 and a
// small text: from the library card's "Convert", with every layer spiking, through the four steps to
// the result with its next steps, and both new models in the library under short names.
// Needs `npm run build:core && npm run build:ui`.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppCore } from '../../electron/core/app-core.js';
import { writeTinyModel } from '../helpers/tiny-models.js';
import { ARTIFACTS } from './browser.js';
import { serveApp, type ServedApp, watchErrors } from './test-app.js';

const TEXT = 'The whale swam on. The sea was calm and grey. Ishmael watched the whale from the deck.\n\n'.repeat(60);

describe('convert wizard', () => {
  const temp = mkdtempSync(join(tmpdir(), 'fas-e2e-convert-'));
  const workspaceDir = join(temp, 'workspace');
  const dataPath = join(temp, 'whale.txt');
  let core: AppCore;
  let app: ServedApp;

  beforeAll(async () => {
    await writeTinyModel(join(temp, 'tiny-gpt2'), 'gpt2');
    writeFileSync(dataPath, TEXT);
    core = new AppCore({ workspaceDir });
    await core.call('models.open', { path: join(temp, 'tiny-gpt2') });
    app = await serveApp(core);
  });
  afterAll(() => app?.close());

  it('converts a model with every layer spiking from its library card, and offers what to do next', async () => {
    const page = await app.browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.setDefaultTimeout(15_000);
    const errors = watchErrors(page);
    const next = page.getByRole('button', { name: 'Next' });

    // Step 1: the card's Convert opens the wizard with its model chosen.
    await page.goto(`${app.server.url}#/library`);
    await page.getByTestId('model-card').getByRole('link', { name: 'Convert', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Convert a model into a spiking one' }).waitFor();
    await expect.poll(() => page.getByRole('radio', { name: /tiny-gpt2/ }).isChecked()).toBe(true);
    await next.click();

    // Step 2: the user's own text, checked.
    await page.getByRole('heading', { name: /Step 2 of 4: Data/ }).waitFor();
    await page.getByRole('radio', { name: 'My own text' }).check();
    await page.getByLabel('File or folder').fill(dataPath);
    await page.getByText(/Found one file \(.* of text\)/).waitFor();
    await next.click();

    // Step 3: the scope in plain words, with a memory estimate per stage that runs.
    await page.getByRole('heading', { name: /Step 3 of 4: Settings/ }).waitFor();
    expect(await page.getByRole('radio', { name: 'FFN only: the FAS paper’s recipe' }).isChecked()).toBe(true);
    const estimates = page.getByTestId('memory-estimate');
    await expect
      .poll(() => estimates.locator('h3').allTextContents())
      .toEqual(['Memory for stage 1 (fine-tuning)', 'Memory for stage 2 (calibration at T = 8)']);
    await page.getByRole('radio', { name: 'Every layer: fully spike-driven, lowest energy' }).check();
    await page.getByText(/needs no calibration afterwards/).waitFor();
    // Stage 2 only writes the folder at T: no calibration, so no estimate of its own.
    await expect.poll(() => estimates.locator('h3').allTextContents()).toEqual(['Memory for stage 1 (fine-tuning)']);
    await page.getByLabel('Timesteps (T)').fill('2');
    await page.getByLabel('Training steps').fill('2');
    await page.getByText('Advanced settings').click();
    await page.getByLabel('Batch size').fill('2');
    await page.getByLabel('Block size').fill('16');
    await estimates.filter({ hasText: '2 × 16 tokens' }).getByTestId('memory-verdict').filter({ hasText: /^Fits/ }).waitFor();
    expect(await page.getByLabel('Calibration samples').isDisabled()).toBe(true);
    expect(await page.getByLabel('Output folder').inputValue()).toBe(`${workspaceDir}/models/tiny-gpt2`);
    await page.screenshot({ path: `${ARTIFACTS}convert-settings.png`, fullPage: true });
    await next.click();

    // Step 4: a last look, then start.
    await page.getByRole('heading', { name: /Step 4 of 4: Start/ }).waitFor();
    await expect(page.locator('.review').textContent()).resolves.toContain(
      'Every layer: fully spike-driven, lowest energy; T = 2; stage 1: 2 steps of 2 × 16 tokens; stage 2: no calibration needed',
    );
    await page.getByRole('button', { name: 'Start converting' }).click();

    // The run, then its result with the next steps.
    await page.waitForURL(/#\/convert\/.+/);
    await page.getByRole('heading', { level: 1, name: 'Converting tiny-gpt2' }).waitFor();
    // Keyboard focus follows to the run's heading, not left on the removed Start button.
    await expect
      .poll(() => page.evaluate(() => `${document.activeElement?.tagName} ${document.activeElement?.textContent?.trim()}`))
      .toBe('H1 Converting tiny-gpt2');
    const results = page.getByTestId('convert-results');
    await results.waitFor({ timeout: 90_000 });
    await expect(results.getByTestId('new-model').textContent()).resolves.toMatch(
      /^\s*tiny-gpt2 · stage 2 is in the Library as “Spiking, every layer”, at T = 2, with no calibration needed\.\s+It was made from tiny-gpt2 · stage 1, /,
    );
    const nextSteps = results.getByRole('navigation', { name: 'What to do next with tiny-gpt2 · stage 2' });
    expect(await nextSteps.getByRole('link').allTextContents()).toEqual(['Chat with it', 'Side by side with the original', 'Evaluate it']);
    expect(await results.getByTestId('convert-measurements').locator('tbody th').allTextContents()).toEqual([
      'Original (ANN)',
      'Fine-tuned (stage 1), not spiking',
      // The chosen T, then the job's usual ones.
      'Spiking, T = 2',
      'Spiking, T = 4',
      'Spiking, T = 8',
    ]);
    await expect(results.getByTestId('energy-line').textContent()).resolves.toMatch(
      /This spiking model spends [\d.]+× the energy of the original per token \(/,
    );
    await page.screenshot({ path: `${ARTIFACTS}convert-results.png`, fullPage: true });

    const models = await core.call('models.list', {});
    const spiking = models.find((m) => m.name === 'tiny-gpt2 · stage 2')!;
    expect(spiking).toMatchObject({ path: join(workspaceDir, 'models', 'tiny-gpt2', 'stage2-spiking'), spiking: { scope: 'all', timesteps: 2 } });
    expect(models.find((m) => m.id === spiking.parentId)?.name).toBe('tiny-gpt2 · stage 1');

    // Chat with it opens a conversation with the spiking model.
    await nextSteps.getByRole('link', { name: 'Chat with it' }).click();
    await page.getByTestId('conversation-title').waitFor();
    expect(await page.getByLabel('Model', { exact: true }).inputValue()).toBe(spiking.id);
    expect(errors).toEqual([]);
    await page.close();
  }, 150_000);
});
