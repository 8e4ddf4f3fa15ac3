// Chat as a first-time user meets it, in headless Chromium against the real core and engine: a
// conversation that runs past a small model's context and keeps going (older turns left out, with a
// quiet note), its settings folded away at 1280 x 800, an error that a new conversation clears, a T
// out of range flagged where it is typed; "Chat with it" on a converted model, and Side by side with
// the converted model beside the original it came from, one seed for both, saved under names that
// say which side was which. Replies are greedy or seeded, so every run writes the same text.
// Needs `npm run build:core && npm run build:ui`.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelEntry } from '../../electron/api/contract.js';
import { writeChatModel, writeConvertedChatModel } from '../unit/chat/helpers.js';
import { ARTIFACTS, launchBrowser } from './browser.js';
import { openSettings, setField } from './chat-page.js';
import { startTestApp, watchErrors, type TestApp } from './test-app.js';

/** Sends a message and waits until its reply has finished (its stats show). */
async function send(page: Page, text: string): Promise<void> {
  const replies = page.getByTestId('message-assistant');
  const before = await replies.count();
  const message = page.getByRole('textbox', { name: 'Message' });
  await message.fill(text);
  await message.press('Enter');
  await replies.nth(before).getByTestId('reply-stats').waitFor({ timeout: 30_000 });
}

describe('chat for a first-time user', () => {
  let app: TestApp;
  let browser: Browser;
  let short: ModelEntry;
  let original: ModelEntry;
  let converted: ModelEntry;
  const models = mkdtempSync(join(tmpdir(), 'fas-e2e-chat-conversation-'));

  beforeAll(async () => {
    [app, browser] = await Promise.all([startTestApp(), launchBrowser()]);
    // A context of 128 byte tokens: three short turns fill it.
    short = await app.core.library.open(await writeChatModel(join(models, 'tiny-short'), { contextLength: 128, seed: 3 }));
    original = await app.core.library.open(await writeChatModel(join(models, 'tiny-original'), { contextLength: 2048, seed: 1 }));
    await app.core.library.open(await writeChatModel(join(models, 'tiny-other'), { contextLength: 2048, seed: 2 }));
    const convertedDir = await writeConvertedChatModel(join(models, 'tiny-spiking'), { contextLength: 2048, timesteps: 4, seed: 1 });
    converted = await app.core.library.open(convertedDir, { parentId: original.id });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.core.chats.close();
    await app?.close();
  });

  it('holds a conversation past the context, with the settings folded away at 1280 x 800', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(15_000);
    const errors = watchErrors(page);
    await page.goto(`${app.server.url}#/chat`);
    await page.getByRole('heading', { name: 'Start a conversation' }).waitFor();
    await page.getByLabel('Model', { exact: true }).selectOption(short.id);
    await page.getByRole('button', { name: 'New conversation' }).click();
    await page.getByTestId('conversation-title').waitFor();

    // The settings are one folded line; the conversation and the message box fit the window.
    const settings = page.getByTestId('chat-settings');
    expect(await settings.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
    expect(await settings.locator('summary').first().textContent()).toMatch(/Settings\s+temperature 0\.7 · replies up to 512 tokens/);
    const box = (await page.getByRole('textbox', { name: 'Message' }).boundingBox())!;
    expect(box.y + box.height).toBeLessThanOrEqual(800);

    // Greedy replies (the default 512 tokens per reply is more than the whole context).
    await openSettings(page);
    await page.getByText('Advanced: sampling').click();
    await page.getByText(/sooner where the model's context \(128 tokens, the conversation included\) ends/).waitFor();
    await setField(page, 'Temperature', '0');
    await setField(page, 'Repetition penalty', '1.3');
    await settings.locator('summary').first().click();

    for (const text of ['Tell me about the sea and the whale.', 'And then what happened on the ship?', 'How did the story end?']) await send(page, text);
    expect(await page.getByTestId('error-box').count()).toBe(0);
    expect(await page.getByTestId('message-assistant').count()).toBe(3);
    // With the page at its top, the transcript and the message box are in the window.
    await page.evaluate(() => window.scrollTo(0, 0));
    const composer = (await page.getByRole('button', { name: 'Send' }).boundingBox())!;
    expect(composer.y + composer.height).toBeLessThanOrEqual(800);
    // The last reply says, quietly, that the oldest turns were left out.
    const note = page.getByTestId('message-assistant').last().getByTestId('context-cut');
    await expect(note.textContent()).resolves.toMatch(
      /^The (oldest message|\d+ oldest messages) (was|were) left out: the model reads only the latest part of a long conversation\.$/,
    );
    await page.screenshot({ path: `${ARTIFACTS}chat-past-the-context.png` });

    // Continue carries on from the reply that filled the context.
    const last = page.getByTestId('message-assistant').last().getByTestId('message-text');
    const before = (await last.textContent())!;
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect.poll(async () => (await last.textContent())!.length, { timeout: 30_000 }).toBeGreaterThan(before.length);
    await page.getByTestId('message-assistant').last().getByTestId('reply-stats').waitFor({ timeout: 30_000 });
    expect((await last.textContent())!.startsWith(before)).toBe(true);
    expect(await page.getByTestId('error-box').count()).toBe(0);

    // A system prompt longer than the context is refused in words; a new conversation starts clean.
    await openSettings(page);
    await page.getByLabel('System prompt').fill('x'.repeat(200));
    await page.getByLabel('System prompt').press('Tab');
    const message = page.getByRole('textbox', { name: 'Message' });
    await message.fill('Hello?');
    await message.press('Enter');
    await expect(page.getByTestId('error-box').getByRole('alert').textContent()).resolves.toMatch(
      /^The system prompt is \d+ tokens long, but the model reads at most 128 tokens at once/,
    );
    await page.getByRole('button', { name: 'New conversation' }).click();
    await page.getByTestId('conversation-title').filter({ hasText: 'New conversation' }).waitFor();
    expect(await page.getByTestId('error-box').count()).toBe(0);
    expect(errors).toEqual(['Failed to load resource: the server responded with a status of 400 (Bad Request)']);
    await page.close();
  }, 120_000);

  it('opens "Chat with it" on the converted model, and flags a T out of range where it is typed', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(15_000);
    const errors = watchErrors(page);
    await page.goto(`${app.server.url}#/chat/with:${encodeURIComponent(converted.id)}`);
    await page.getByTestId('conversation-title').waitFor();
    await page.waitForURL((url) => !url.hash.includes('with:'));
    expect(await page.getByLabel('Model', { exact: true }).inputValue()).toBe(converted.id);
    expect(await page.getByTestId('chat-settings').locator('summary').first().textContent()).toContain('spiking, T = 4');

    await openSettings(page);
    expect(await page.getByRole('radio', { name: 'Spiking model' }).isChecked()).toBe(true);
    await setField(page, 'Timesteps (T)', '100000');
    await page.getByText(/^100000 cannot be used: enter a whole number from 1 to 1,024\. The replies keep T = 4 until then\.$/).waitFor();
    expect(await page.getByLabel('Timesteps (T)').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('Timesteps (T)').inputValue()).toBe('100000');
    const chatId = decodeURIComponent(page.url().split('#/chat/')[1]!);
    expect((await app.core.call('chats.get', { id: chatId })).mode).toEqual({ kind: 'snn', timesteps: 4 });
    await page.screenshot({ path: `${ARTIFACTS}chat-t-flagged.png` });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('puts the converted model beside its original, with one seed for both, saved under names that say which side', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(15_000);
    const errors = watchErrors(page);
    await page.goto(`${app.server.url}#/chat/compare:${encodeURIComponent(converted.id)}`);
    await page.getByRole('button', { name: 'Start comparing' }).waitFor();
    expect(await page.getByLabel('Left model').inputValue()).toBe(original.id);
    expect(await page.getByLabel('Right model').inputValue()).toBe(converted.id);
    const right = page.getByRole('group', { name: 'Right model runs as' });
    expect(await right.getByRole('radio', { name: 'Spiking model' }).isChecked()).toBe(true);

    // A T out of range holds Start back until it is fixed.
    await setField(page, 'Timesteps (T)', '100000');
    expect(await page.getByRole('button', { name: 'Start comparing' }).isDisabled()).toBe(true);
    await setField(page, 'Timesteps (T)', '4');
    expect(await page.getByRole('button', { name: 'Start comparing' }).isDisabled()).toBe(false);
    await page.getByRole('button', { name: 'Start comparing' }).click();
    await page.getByRole('heading', { name: 'Left: tiny-original' }).waitFor();
    await page.getByRole('heading', { name: 'Right: tiny-spiking (spiking, T = 4)' }).waitFor();

    await openSettings(page);
    await page.getByText('Advanced: sampling').click();
    await setField(page, 'Max tokens per reply', '12');
    const message = page.getByRole('textbox', { name: 'Message' });
    await message.fill('Compare');
    await message.press('Enter');
    const columns = page.getByTestId('compare-column');
    for (const i of [0, 1]) await columns.nth(i).getByTestId('reply-stats').waitFor({ timeout: 30_000 });
    await page.screenshot({ path: `${ARTIFACTS}chat-side-by-side-original.png`, fullPage: true });

    const saved = await app.core.call('chats.list', {});
    const leftTitle = 'Side by side, left: tiny-original; right: tiny-spiking (spiking, T = 4)';
    const rightTitle = 'Side by side, right: tiny-spiking (spiking, T = 4); left: tiny-original';
    const [leftChat, rightChat] = await Promise.all(
      [leftTitle, rightTitle].map((title) => app.core.call('chats.get', { id: saved.find((c) => c.title === title)!.id })),
    );
    const [leftSeed, rightSeed] = [leftChat, rightChat].map((chat) => chat.messages.at(-1)!.stats!.seed);
    expect(leftSeed).toBe(rightSeed);
    expect(leftChat.modelId).toBe(original.id);
    expect(rightChat.modelId).toBe(converted.id);

    // Regenerate draws a new seed, again the same on both sides.
    const seedOf = async (id: string) => {
      const chat = await app.core.call('chats.get', { id });
      return chat.replying === null ? (chat.messages.at(-1)?.stats?.seed ?? null) : null;
    };
    await page.getByRole('button', { name: 'Regenerate' }).click();
    await expect.poll(async () => [null, leftSeed].includes(await seedOf(leftChat.id)), { timeout: 30_000 }).toBe(false);
    const newSeed = await seedOf(leftChat.id);
    await expect.poll(() => seedOf(rightChat.id), { timeout: 30_000 }).toBe(newSeed);
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);
});
