// The UI is served to the Electron window from a custom privileged scheme, app://fas/, instead of
// file://. The window's origin is then the app itself: the IPC gate and the content policy can name
// exactly this origin, where a file:// check would trust any local HTML file that got loaded.
// Plain Node (no 'electron' import), so it is tested directly.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { contentSecurityPolicy } from '../server/csp.js';

export const APP_SCHEME = 'app';
export const APP_HOST = 'fas';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

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
  const ext = path.extname(file);
  const headers: Record<string, string> = { 'content-type': TYPES[ext] ?? 'application/octet-stream', 'x-content-type-options': 'nosniff' };
  if (ext === '.html') headers['content-security-policy'] = contentSecurityPolicy();
  return { status: 200, headers, body };
}
