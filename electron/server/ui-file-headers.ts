// The response headers of a file of the built UI, the same whether the HTTP server or the desktop
// app's app:// scheme serves it: its type, no sniffing, and the content policy on pages.
import path from 'node:path';
import { contentSecurityPolicy } from './csp.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

export function uiFileHeaders(file: string): Record<string, string> {
  const ext = path.extname(file);
  const headers: Record<string, string> = { 'content-type': TYPES[ext] ?? 'application/octet-stream', 'x-content-type-options': 'nosniff' };
  if (ext === '.html') headers['content-security-policy'] = contentSecurityPolicy();
  return headers;
}
