// Headless Chromium driven by playwright-core (`npx playwright install` cannot download browsers
// offline); which Chromium is decided once per run by browser-setup.ts.
import { mkdirSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { inject } from 'vitest';

export const ARTIFACTS = new URL('../../test-results/', import.meta.url).pathname;

export async function launchBrowser(): Promise<Browser> {
  const found = inject('browser');
  if ('error' in found) throw new Error(found.error);
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: found.executablePath,
    env: found.env ? { ...process.env, ...found.env } : undefined,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
