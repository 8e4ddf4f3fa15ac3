// The UI is served to the Electron window from a custom privileged scheme, app://fas/, instead of
// file://. The window's origin is then the app itself: the IPC gate and the content policy can name
// exactly this origin, where a file:// check would trust any local HTML file that got loaded.
// Plain Node (no 'electron' import), so it is tested directly.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { uiFileHeaders } from '../server/ui-file-headers.js';

export const APP_SCHEME = 'app';
export const APP_HOST = 'fas';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`;

/** True only for a URL of the app's own pages (app://fas/...). */
export function isAppUrl(url: string | undefined): boolean {
  if (!url) return false;
  try {
    const parsed = new URL(url);
    return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST;
  } catch {
    return false;
  }
}

/** The answer to a request for app://fas/<path>: a file of the built UI, never anything outside it. */
export async function appResponse(uiDir: string, url: string): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  const notFound = (status: number, text: string) => ({ status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: Buffer.from(text) });
  if (!isAppUrl(url)) return notFound(403, 'Not an app page.');
  const root = path.resolve(uiDir);
  const pathname = decodeURIComponent(new URL(url).pathname);
  const file = path.resolve(root, '.' + (pathname === '/' ? '/index.html' : pathname));
  if (!file.startsWith(root + path.sep)) return notFound(403, 'Outside the UI folder.');
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    return notFound(404, `No file ${pathname}.`);
  }
  return { status: 200, headers: uiFileHeaders(file), body };
}
