// What the chat e2e suites do on the Chat page the way a person does it.
import type { Page } from 'playwright-core';

/** Sets a field: type, then leave the field. */
export async function setField(page: Page, label: string, value: string): Promise<void> {
  const field = page.getByLabel(label, { exact: true });
  await field.fill(value);
  await field.press('Tab');
}

/** Opens the folded chat settings (once). */
export async function openSettings(page: Page): Promise<void> {
  const settings = page.getByTestId('chat-settings');
  if (!(await settings.evaluate((d) => (d as HTMLDetailsElement).open))) await settings.locator('summary').first().click();
}
