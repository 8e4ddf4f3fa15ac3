import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeChatModel, writeConvertedChatModel } from '../unit/chat/helpers.js';
import { ARTIFACTS, launchBrowser } from './browser.js';
import { openSettings, setField } from './chat-page.js';
import { startTestApp, watchErrors, type TestApp } from './test-app.js';

/** Opens the chat settings, then their sampling section. */
async function openSampling(page: Page): Promise<void> {
  await openSettings(page);
  await page.getByText('Advanced: sampling').click();
}

const replyText = (page: Page): Locator => page.getByTestId('message-assistant').last().getByTestId('message-text');
const replyStats = (page: Page): Locator => page.getByTestId('message-assistant').last().getByTestId('reply-stats');

describe('Chat page', () => {
  let app: TestApp;
  let browser: Browser;
  const models = mkdtempSync(join(tmpdir(), 'fas-e2e-chat-'));

  beforeAll(async () => {
    [app, browser] = await Promise.all([startTestApp(), launchBrowser()]);
    // Long contexts: greedy, without a repetition penalty, the tiny model writes until its budget of
    // 100,000 tokens runs out (about a minute at 1,600 tokens/s on an idle 2-core machine), far longer
    // than the steps between sending and stopping take on a loaded one (8,000 tokens once took 5 s).
    for (const [name, seed] of [
      ['tiny-chat', 1],
      ['tiny-other', 2],
    ] as const) {
      await app.core.library.open(await writeChatModel(join(models, name), { contextLength: 131_072, seed }));
    }
    await app.core.library.open(await writeConvertedChatModel(join(models, 'tiny-spiking'), { contextLength: 2048, timesteps: 4 }));
  });
  afterAll(async () => {
    await browser?.close();
    await app?.core.chats.close();
    await app?.close();
  });

  it('streams a reply, stops it, regenerates and continues it, and keeps the conversation across a reload', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors = watchErrors(page);
    await page.goto(`${app.server.url}#/chat`);
    await page.getByRole('heading', { name: 'Start a conversation' }).waitFor();
    await page.getByRole('button', { name: 'New conversation', exact: true }).click();
    const message = page.getByRole('textbox', { name: 'Message' });
    await expect.poll(() => message.evaluate((m) => m === document.activeElement)).toBe(true);

    await openSampling(page);
    await setField(page, 'Temperature', '0');
    await setField(page, 'Repetition penalty', '1');
    await setField(page, 'Max tokens per reply', '100000');

    await message.fill('Hi');
    await message.press('Enter');
    await expect.poll(() => message.inputValue()).toBe('');
    await page.getByTestId('message-user').getByText('Hi').waitFor();
    // The reply grows while it streams.
    const length = async () => (await replyText(page).textContent())!.length;
    const tokens = async () => Number((await replyStats(page).textContent())!.match(/([\d,]+) tokens? ·/)![1]!.replace(/,/g, ''));
    await expect.poll(length, { timeout: 20_000 }).toBeGreaterThan(0);
    const early = await length();
    await expect.poll(length, { timeout: 20_000 }).toBeGreaterThan(early + 20);
    await page.screenshot({ path: `${ARTIFACTS}chat-streaming.png` });
    const stillWriting = await page.getByTestId('message-assistant').last().getAttribute('aria-busy');
    expect(
      stillWriting,
      `the reply ended early: ${await replyStats(page)
        .textContent({ timeout: 1000 })
        .catch(() => '')}`,
    ).toBe('true');

    await page.getByRole('button', { name: 'Stop' }).click();
    await expect
      .poll(() => replyStats(page).textContent(), { timeout: 10_000 })
      .toMatch(/^Stopped\.\s*[\d,]+ tokens · [\d.]+ tokens\/s · first token after [\d.]+ s/);
    const stopped = (await replyText(page).textContent())!;
    await new Promise((r) => setTimeout(r, 300));
    expect(await replyText(page).textContent()).toBe(stopped);
    expect(await tokens()).toBeLessThan(100_000);
    expect(await page.getByRole('button', { name: 'Stop' }).count()).toBe(0);
    await expect.poll(() => message.evaluate((m) => m === document.activeElement)).toBe(true);

    await page.screenshot({ path: `${ARTIFACTS}chat-stopped.png` });

    // A short, sampled reply, with a system prompt, replaces the stopped one.
    await page.getByLabel('System prompt').fill('Answer briefly.');
    await setField(page, 'Max tokens per reply', '24');
    await setField(page, 'Temperature', '0.9');
    // A fixed seed: the sampled reply, and its continuation, are the same on every run.
    await setField(page, 'Seed', '7');
    await page.getByRole('button', { name: 'Regenerate' }).click();
    await expect.poll(() => replyStats(page).textContent(), { timeout: 20_000 }).not.toMatch(/^Stopped\./);
    expect(await page.getByTestId('message-assistant').count()).toBe(1);
    // Both settings changed in quick succession apply: at most 24 tokens.
    expect(await tokens()).toBeLessThanOrEqual(24);
    const regenerated = (await replyText(page).textContent())!;
    expect(regenerated).not.toBe(stopped);

    await page.getByRole('button', { name: 'Continue' }).click();
    await expect.poll(length, { timeout: 20_000 }).toBeGreaterThan(regenerated.length);
    await replyStats(page).waitFor();
    expect((await replyText(page).textContent())!.startsWith(regenerated)).toBe(true);
    expect(await tokens()).toBeLessThanOrEqual(48);

    await page.getByRole('button', { name: 'Rename' }).click();
    await page.getByLabel('New name').fill('Tiny talk');
    await page.keyboard.press('Enter');
    await expect(page.getByTestId('conversation-title').textContent()).resolves.toBe('Tiny talk');
    await page.getByTestId('conversation-list').getByText('Tiny talk').waitFor();

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export Markdown' }).click()]);
    expect(download.suggestedFilename()).toBe('Tiny-talk.md');
    const markdown = await readFile((await download.path())!, 'utf8');
    expect(markdown).toContain('# Tiny talk\n\n- Model: tiny-chat\n');
    expect(markdown).toContain('## System prompt\n\nAnswer briefly.\n\n## User\n\nHi\n\n## Assistant (tiny-chat)\n');

    const shown = await replyText(page).textContent();
    await page.reload();
    await expect(page.getByTestId('conversation-title').textContent()).resolves.toBe('Tiny talk');
    expect(await page.getByTestId('message-user').getByTestId('message-text').textContent()).toBe('Hi');
    expect(await replyText(page).textContent()).toBe(shown);
    expect(await page.getByLabel('System prompt').inputValue()).toBe('Answer briefly.');
    await page
      .getByTestId('conversation-list')
      .getByRole('button', { name: /Tiny talk/ })
      .waitFor();
    expect(
      await page
        .getByTestId('conversation-list')
        .getByRole('button', { name: /Tiny talk/ })
        .getAttribute('aria-current'),
    ).toBe('true');
    await page.screenshot({ path: `${ARTIFACTS}chat-after-reload.png`, fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);

  it('sends the same message to two models side by side and streams both', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors = watchErrors(page);
    await page.goto(`${app.server.url}#/chat/compare`);
    await page.getByLabel('Left model').selectOption({ label: 'tiny-chat (Original)' });
    await page.getByLabel('Right model').selectOption({ label: 'tiny-other (Original)' });
    await page.getByRole('button', { name: 'Start comparing' }).click();
    await page.getByRole('heading', { name: 'Left: tiny-chat' }).waitFor();
    await openSampling(page);
    await setField(page, 'Max tokens per reply', '30');
    await setField(page, 'Seed', '7');
    const message = page.getByRole('textbox', { name: 'Message' });
    await message.fill('Hello, both of you');
    await message.press('Enter');
    const columns = page.getByTestId('compare-column');
    for (const i of [0, 1]) {
      await columns.nth(i).getByTestId('reply-stats').waitFor({ timeout: 20_000 });
      expect(await columns.nth(i).getByTestId('message-user').textContent()).toContain('Hello, both of you');
    }
    expect(await columns.nth(1).getByRole('heading').textContent()).toBe('Right: tiny-other');
    await page.screenshot({ path: `${ARTIFACTS}chat-side-by-side.png`, fullPage: true });
    // Each side is a saved conversation.
    const saved = await app.core.call('chats.list', {});
    expect(saved.filter((c) => c.title.startsWith('Side by side, ')).map((c) => [c.modelName, c.title])).toEqual(
      expect.arrayContaining([
        ['tiny-chat', 'Side by side, left: tiny-chat; right: tiny-other'],
        ['tiny-other', 'Side by side, right: tiny-other; left: tiny-chat'],
      ]),
    );
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('chats with a converted model as the spiking model at a chosen T, showing firing rate and energy under each reply', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
    const errors = watchErrors(page);
    await page.goto(`${app.server.url}#/chat`);
    await page.getByLabel('Model', { exact: true }).selectOption({ label: 'tiny-spiking (Spiking, calibrated)' });
    await page.getByRole('button', { name: 'New conversation', exact: true }).click();
    await openSettings(page);
    // A converted model starts as the spiking model at its folder's T, and says what T is.
    expect(await page.getByRole('radio', { name: 'Spiking model' }).isChecked()).toBe(true);
    expect(await page.getByLabel('Timesteps (T)').inputValue()).toBe('4');
    await page.getByText('Timesteps per token: more is closer to the original, slower. Converted for T = 4.').waitFor();
    await setField(page, 'Timesteps (T)', '8');
    await openSampling(page);
    await setField(page, 'Max tokens per reply', '16');
    await setField(page, 'Seed', '7');

    const message = page.getByRole('textbox', { name: 'Message' });
    await message.fill('Hi');
    await message.press('Enter');
    const reply = page.getByTestId('message-assistant').last();
    const ops = reply.getByTestId('reply-ops');
    await ops.waitFor({ timeout: 20_000 });
    expect(await reply.locator('.who').textContent()).toContain('tiny-spiking, spiking, T = 8');
    expect(await ops.locator('p').first().textContent()).toMatch(
      /^firing rate [\d.]+% · [\d.]+K? MACs \+ [\d.]+K? ACs per token · [\d.]+ µJ per token, \d+% (of|more than) the original's$/,
    );
    // Under the figures, a plain line: how many times the original's energy, and why.
    expect(await ops.getByTestId('energy-line').textContent()).toMatch(/^This model spent [\d.]+× the energy of the original \(.+\)\.$/);
    await ops.getByText('Firing rate per layer, and what was counted').click();
    expect(await ops.getByRole('list', { name: 'Firing rate per layer' }).getByRole('listitem').allTextContents()).toEqual([
      expect.stringMatching(/^Layer 0\s*[\d.]+%$/),
      expect.stringMatching(/^Layer 1\s*[\d.]+%$/),
    ]);
    await ops.getByText(/^MACs \(4\.6 pJ each\)/).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}chat-spiking.png`, fullPage: true });

    // The same weights as the ANN answer the next message; the conversation keeps the mode chosen.
    await page.getByRole('radio', { name: /^Original network \(ANN\)/ }).check();
    await message.fill('And now?');
    await message.press('Enter');
    await expect.poll(() => page.getByTestId('reply-ops').count(), { timeout: 20_000 }).toBe(2);
    expect(await page.getByTestId('reply-ops').last().locator('p').first().textContent()).toMatch(/^[\d.]+K? MACs per token · [\d.]+ µJ per token$/);
    await page.reload();
    await page.getByTestId('reply-ops').nth(1).waitFor();
    await openSettings(page);
    expect(await page.getByRole('radio', { name: /^Original network \(ANN\)/ }).isChecked()).toBe(true);
    expect(await page.getByTestId('reply-ops').first().textContent()).toContain('firing rate');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('puts the ANN beside the spiking model of the same converted folder, streaming both', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors = watchErrors(page);
    await page.goto(`${app.server.url}#/chat/compare`);
    // The natural comparison is offered first.
    expect(await page.getByLabel('Left model').inputValue()).toBe(await page.getByLabel('Right model').inputValue());
    const left = page.getByRole('group', { name: 'Left model runs as' });
    const right = page.getByRole('group', { name: 'Right model runs as' });
    expect(await left.getByRole('radio', { name: /^Original network/ }).isChecked()).toBe(true);
    expect(await right.getByRole('radio', { name: 'Spiking model' }).isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Start comparing' }).click();
    await page.getByRole('heading', { name: 'Left: tiny-spiking (ANN)' }).waitFor();
    await page.getByRole('heading', { name: 'Right: tiny-spiking (spiking, T = 4)' }).waitFor();
    await openSampling(page);
    await setField(page, 'Max tokens per reply', '16');
    await setField(page, 'Seed', '7');
    const message = page.getByRole('textbox', { name: 'Message' });
    await message.fill('Compare');
    await message.press('Enter');
    const columns = page.getByTestId('compare-column');
    for (const i of [0, 1]) await columns.nth(i).getByTestId('reply-ops').waitFor({ timeout: 20_000 });
    expect(await columns.nth(0).getByTestId('reply-ops').textContent()).not.toContain('firing rate');
    expect(await columns.nth(1).getByTestId('reply-ops').textContent()).toMatch(/firing rate [\d.]+% · .* µJ per token, \d+% (of|more than) the original's/);
    expect(await columns.nth(1).getByTestId('energy-line').textContent()).toMatch(/^This model spent [\d.]+× the energy of the original \(/);
    expect(await columns.nth(0).getByTestId('energy-line').count()).toBe(0);
    await page.screenshot({ path: `${ARTIFACTS}chat-side-by-side-spiking.png`, fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('fits a 420 px window in the dark theme and works from the keyboard', async () => {
    const context = await browser.newContext({ colorScheme: 'dark', viewport: { width: 420, height: 860 } });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${app.server.url}#/chat`);
    const first = page.getByTestId('conversation-list').getByRole('button').first();
    await first.focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('conversation-title').waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}chat-dark-420px.png`, fullPage: true });
    await page.goto(`${app.server.url}#/chat/compare`);
    await page.getByRole('button', { name: 'Start comparing' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}chat-compare-dark-420px.png`, fullPage: true });
    expect(errors).toEqual([]);
    await context.close();
  });
});
