// The guided path: every library card offers what to do next with its model, the wizard it opens
// starts with that model chosen, and Chat opens on it.
// Needs `npm run build:core && npm run build:ui`.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../electron/api/contract.js';
import { AppCore } from '../../electron/core/app-core.js';
import { writeChatModel, writeConvertedChatModel } from '../unit/chat/helpers.js';
import { ARTIFACTS } from './browser.js';
import { serveApp, type ServedApp, watchErrors } from './test-app.js';

describe('the guided path from the library', () => {
  const temp = mkdtempSync(join(tmpdir(), 'fas-e2e-guided-'));
  let core: AppCore;
  let app: ServedApp;
  let original: ModelEntry;
  let converted: ModelEntry;

  beforeAll(async () => {
    core = new AppCore({ workspaceDir: join(temp, 'workspace') });
    original = await core.call('models.open', { path: await writeChatModel(join(temp, 'tiny-original'), { contextLength: 256, seed: 1 }) });
    const convertedDir = await writeConvertedChatModel(join(temp, 'tiny-spiking'), { contextLength: 256, timesteps: 4, seed: 1 });
    converted = await core.library.open(convertedDir, { parentId: original.id });
    app = await serveApp(core);
  });
  afterAll(() => app?.close());

  it('offers each model its next steps, and the wizards start with the model the user came from', async () => {
    const page = await app.browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.setDefaultTimeout(15_000);
    const errors = watchErrors(page);
    const card = (name: string) => page.getByTestId('model-card').filter({ has: page.getByRole('heading', { name, exact: true }) });
    const actions = (name: string) => card(name).getByRole('navigation').getByRole('link').allTextContents();

    await page.goto(`${app.server.url}#/library`);
    await card('tiny-original').waitFor();
    expect(await actions('tiny-original')).toEqual(['Convert', 'Fine-tune (stage 1)', 'Evaluate', 'Chat']);
    expect(await actions('tiny-spiking')).toEqual(['Compare with the original', 'Evaluate', 'Chat']);
    await page.screenshot({ path: `${ARTIFACTS}guided-library-actions.png`, fullPage: true });

    // Convert and Fine-tune open with the card's model chosen (the library holds two original models).
    await card('tiny-original').getByRole('link', { name: 'Convert', exact: true }).click();
    await page.getByRole('heading', { name: 'Convert a model into a spiking one' }).waitFor();
    await expect.poll(() => page.getByRole('radio', { name: /tiny-original/ }).isChecked()).toBe(true);
    await page.goto(`${app.server.url}#/library`);
    await card('tiny-original').getByRole('link', { name: 'Fine-tune (stage 1)' }).click();
    await page.getByRole('heading', { name: 'Fine-tune a model (stage 1)' }).waitFor();
    await expect.poll(() => page.getByRole('radio', { name: /tiny-original/ }).isChecked()).toBe(true);
    expect(await page.getByRole('button', { name: 'Next' }).isDisabled()).toBe(false);

    // Evaluate, from the converted model's card.
    await page.goto(`${app.server.url}#/library`);
    await card('tiny-spiking').getByRole('link', { name: 'Evaluate' }).click();
    await page.getByRole('heading', { name: /Step 1 of 4/ }).waitFor();
    await expect.poll(() => page.getByRole('radio', { name: /tiny-spiking/ }).isChecked()).toBe(true);

    // Chat opens a conversation with the card's model; Compare puts it beside its original.
    await page.goto(`${app.server.url}#/library`);
    await card('tiny-original').getByRole('link', { name: 'Chat' }).click();
    await page.getByTestId('conversation-title').waitFor();
    expect(await page.getByLabel('Model', { exact: true }).inputValue()).toBe(original.id);
    await page.goto(`${app.server.url}#/library`);
    await card('tiny-spiking').getByRole('link', { name: 'Compare with the original' }).click();
    await page.getByRole('button', { name: 'Start comparing' }).waitFor();
    expect([await page.getByLabel('Left model').inputValue(), await page.getByLabel('Right model').inputValue()]).toEqual([original.id, converted.id]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('tries a failed fine-tuning again from its page with the same model, text and settings', async () => {
    // Text too short for one block of training: the job fails at once.
    const dataPath = join(temp, 'short.txt');
    writeFileSync(dataPath, 'Too short.');
    const params = { modelDir: original.path, dataPath, outDir: join(temp, 'out'), steps: 7, batchSize: 2, blockSize: 32 };
    const job = await core.call('jobs.start', { kind: 'finetune', params });
    expect((await core.jobs.waitFor(job.id)).state).toBe('failed');
    const page = await app.browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.setDefaultTimeout(15_000);
    await page.goto(`${app.server.url}#/finetune/${job.id}`);
    await page.getByRole('link', { name: 'Try again with these settings' }).click();
    await page.getByRole('heading', { name: /Step 1 of 4/ }).waitFor();
    await expect.poll(() => page.getByRole('radio', { name: /tiny-original/ }).isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Next' }).click();
    expect(await page.getByRole('radio', { name: 'My own text' }).isChecked()).toBe(true);
    expect(await page.getByLabel('File or folder').inputValue()).toBe(dataPath);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: /Step 3 of 4/ }).waitFor();
    expect(await page.getByRole('spinbutton', { name: 'Steps', exact: true }).first().inputValue()).toBe('7');
    expect(await page.getByRole('spinbutton', { name: 'Batch size', exact: true }).first().inputValue()).toBe('2');
    await page.close();
  });

  it('renames a model, and says a folder opened again is already in the library without moving it', async () => {
    const page = await app.browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.setDefaultTimeout(15_000);
    const errors = watchErrors(page);
    await page.goto(`${app.server.url}#/library`);
    const names = () => page.getByTestId('model-card').locator('h3').allTextContents();
    await page.getByTestId('model-card').first().waitFor();
    const before = await names();
    const card = page.getByTestId('model-card').filter({ has: page.getByRole('heading', { name: 'tiny-original', exact: true }) });
    await card.getByRole('button', { name: 'Rename' }).click();
    await card.getByLabel('New name').fill('  My first   model ');
    await card.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'My first model', exact: true }).waitFor();
    expect((await core.call('models.list', {})).find((m) => m.id === original.id)!.name).toBe('My first model');
    expect(await names()).toEqual(before.map((n) => (n === 'tiny-original' ? 'My first model' : n)));

    await page.getByLabel('Folder path').fill(original.path);
    await page.getByRole('button', { name: 'Open folder' }).click();
    await page.getByText('"My first model" is already in the library.').waitFor();
    expect(await names()).toEqual(before.map((n) => (n === 'tiny-original' ? 'My first model' : n)));
    expect(errors).toEqual([]);
    await page.close();
  });
});
