// The local HTTP transport: the built UI and the API on 127.0.0.1 only, for browsers, scripts and
// tests. Every API call must carry the per-run token in the x-fas-token header; the token is handed
// only to the page this server serves, and other pages cannot read it (same-origin policy). The rules
// every request passes are in request-guard.ts; the event stream and report tabs use tickets.ts.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { ApiResponse, ReportFile } from '../api/contract.js';
import type { AppCore } from '../core/app-core.js';
import { uiFileHeaders } from './ui-file-headers.js';
import { contentTypeRefusal, hasHeaderToken, localHost, originRefusal } from './request-guard.js';
import { TICKET_LIFETIME_MS, TicketBook, type TicketScope } from './tickets.js';

export interface ServerOptions {
  core: AppCore;
  /** Folder of the built UI (dist/renderer); API only when absent. */
  uiDir?: string;
  /** 0 picks a free port. */
  port?: number;
  token?: string;
  /** Injected by tests to control the clock. */
  tickets?: TicketBook;
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1 << 20;
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const token = options.token ?? randomBytes(32).toString('hex');
  const tickets = options.tickets ?? new TicketBook();
  let port = 0;
  const server = http.createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: { code: 'failed', message: String(err) } });
      else res.end();
    });
  });

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const host = localHost(req);
    if (!host) return sendJson(res, 403, errorBody('unauthorized', 'Unknown host.'));
    const refused = originRefusal(req, port);
    if (refused) return sendJson(res, refused.status, errorBody('unauthorized', refused.message));
    const url = new URL(req.url ?? '/', `http://${host}`);
    if (url.pathname.startsWith('/api/')) return routeApi(req, res, url);
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, errorBody('bad_request', 'Method not allowed.'));
    if (!options.uiDir) return sendJson(res, 404, errorBody('not_found', 'This server has no UI.'));
    return serveStatic(res, options.uiDir, url.pathname, token);
  }

  async function routeApi(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    if (url.searchParams.has('token')) {
      return sendJson(res, 401, errorBody('unauthorized', 'The API token is never accepted in a URL: send it in the x-fas-token header.'));
    }
    if (req.method === 'GET') {
      // The two GETs a browser opens without headers (EventSource, a new tab) may carry a ticket instead.
      const ticket = url.searchParams.get('ticket');
      const allowed = (scope: TicketScope) => hasHeaderToken(req, token) || (ticket !== null && tickets.redeem(ticket, scope));
      if (url.pathname === '/api/events') {
        return allowed({ kind: 'events' }) ? streamEvents(req, res, options.core) : sendJson(res, 401, NO_TICKET);
      }
      if (url.pathname.startsWith('/api/report/')) {
        const id = decodeURIComponent(url.pathname.slice('/api/report/'.length));
        return allowed({ kind: 'report', id }) ? sendReport(res, options.core, id) : sendJson(res, 401, NO_TICKET);
      }
      return sendJson(res, 404, errorBody('not_found', 'No such API route.'));
    }
    if (req.method !== 'POST') return sendJson(res, 405, errorBody('bad_request', 'Method not allowed.'));
    if (!hasHeaderToken(req, token)) return sendJson(res, 401, errorBody('unauthorized', 'Missing or wrong API token.'));
    const badType = contentTypeRefusal(req);
    if (badType) return sendJson(res, badType.status, errorBody('bad_request', badType.message));
    const params = await readJsonBody(req);
    if (params === undefined) return sendJson(res, 400, errorBody('bad_request', 'The body must be JSON.'));
    if (url.pathname === '/api/ticket') {
      const scope = ticketScope(params);
      if (!scope) return sendJson(res, 400, errorBody('bad_request', 'A ticket is for {"kind": "events"} or {"kind": "report", "id": "<run id>"}.'));
      return sendJson(res, 200, { ok: true, result: { ticket: tickets.issue(scope), expiresInMs: TICKET_LIFETIME_MS } });
    }
    if (url.pathname.startsWith('/api/call/')) {
      const result = await options.core.handle(decodeURIComponent(url.pathname.slice('/api/call/'.length)), params);
      return sendJson(res, result.ok ? 200 : statusOf(result), result);
    }
    return sendJson(res, 404, errorBody('not_found', 'No such API route.'));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function errorBody(code: 'unauthorized' | 'bad_request' | 'not_found', message: string): ApiResponse<never> {
  return { ok: false, error: { code, message } };
}

function statusOf(res: ApiResponse<unknown>): number {
  if (res.ok) return 200;
  return { bad_request: 400, not_found: 404, unauthorized: 401, failed: 500 }[res.error.code];
}

const NO_TICKET = errorBody('unauthorized', 'Missing, used or expired ticket: ask for a new one with POST /api/ticket.');

function ticketScope(params: unknown): TicketScope | undefined {
  if (typeof params !== 'object' || params === null) return undefined;
  const { kind, id } = params as Record<string, unknown>;
  if (kind === 'events') return { kind };
  if (kind === 'report' && typeof id === 'string' && id.length > 0) return { kind, id };
  return undefined;
}

async function readJsonBody(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/**
 * A finished evaluation's HTML report, opened in its own tab (with a ticket in the query). Its
 * inline charts need inline scripts, which the app's policy forbids, so the report gets its own
 * policy: a sandbox (an opaque origin, which cannot read the API) where only its inline code runs.
 */
async function sendReport(res: http.ServerResponse, core: AppCore, id: string): Promise<void> {
  const report = (await core.handle('jobs.report', { id })) as ApiResponse<ReportFile>;
  if (!report.ok) {
    res.writeHead(statusOf(report), { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    return void res.end(report.error.message);
  }
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'content-security-policy': REPORT_POLICY,
  });
  res.end(report.result.text);
}

const REPORT_POLICY = "sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

/** Server-sent events: one `data:` line of JSON per core event, and a comment every 15 s to keep proxies from closing it. */
function streamEvents(req: http.IncomingMessage, res: http.ServerResponse, core: AppCore): void {
  // Subscribed before the answer's head goes out: a client whose stream is open misses no event.
  const off = core.onEvent((event) => res.write(`data: ${JSON.stringify(event)}\n\n`));
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
  res.write(': connected\n\n');
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  req.on('close', () => {
    clearInterval(keepAlive);
    off();
  });
}

async function serveStatic(res: http.ServerResponse, uiDir: string, pathname: string, token: string): Promise<void> {
  const root = path.resolve(uiDir);
  const rel = decodeURIComponent(pathname === '/' ? '/index.html' : pathname);
  const file = path.resolve(root, '.' + rel);
  if (file !== root && !file.startsWith(root + path.sep)) return sendJson(res, 403, errorBody('unauthorized', 'Outside the UI folder.'));
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    return sendJson(res, 404, errorBody('not_found', `No file ${rel}.`));
  }
  const headers = uiFileHeaders(file);
  if (path.extname(file) === '.html') {
    // The page learns the token from a meta tag; only this page can read it.
    body = Buffer.from(body.toString('utf8').replace('</head>', `<meta name="fas-token" content="${token}"></head>`));
    headers['cache-control'] = 'no-store';
  }
  res.writeHead(200, headers);
  res.end(body);
}
