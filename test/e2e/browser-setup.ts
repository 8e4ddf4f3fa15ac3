// Vitest global setup: find the end-to-end tests' browser once per run (unpacking the packaged one
// at most once, never by two workers at a time), say which one it is, and hand it to the tests.
import type { TestProject } from 'vitest/node';
import { findBrowser, type FoundBrowser } from './find-browser.js';

declare module 'vitest' {
  export interface ProvidedContext {
    browser: FoundBrowser | { error: string };
  }
}

export default async function setup(project: TestProject): Promise<void> {
  try {
    const browser = await findBrowser();
    console.log(`End-to-end tests drive ${browser.executablePath} (${browser.source}).`);
    project.provide('browser', browser);
  } catch (err) {
    project.provide('browser', { error: err instanceof Error ? err.message : String(err) });
  }
}
