import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppCore } from '../../../electron/core/app-core.js';
import { startServer, type RunningServer } from '../../../electron/server/http-server.js';
import { TICKET_LIFETIME_MS, TicketBook } from '../../../electron/server/tickets.js';

/** A raw request, so the test controls the Host header and the path exactly. */
function request(server: RunningServer, opts: { method?: string; path: string; headers?: Record<string, string>; body?: string }) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('local HTTP server', () => {
  // Each suite its own workspace: one process holds a workspace at a time.
  const core = new AppCore({ workspaceDir: mkdtempSync(join(tmpdir(), 'fas-http-server-')) });
  let server: RunningServer;
  let clock = 0;
  const uiDir = mkdtempSync(join(tmpdir(), 'fas-ui-'));

  beforeAll(async () => {
    writeFileSync(join(uiDir, 'index.html'), '<html><head><title>t</title></head><body></body></html>');
    writeFileSync(join(tmpdir(), 'fas-secret.txt'), 'secret');
    server = await startServer({ core, uiDir, token: 'a'.repeat(64), tickets: new TicketBook(() => clock) });
  });
  afterAll(() => server.close());

  it('binds to 127.0.0.1 only', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  const json = { 'content-type': 'application/json' };
  const ticket = async (scope: object): Promise<string> => {
    const res = await request(server, { method: 'POST', path: '/api/ticket', headers: { ...json, 'x-fas-token': server.token }, body: JSON.stringify(scope) });
    expect(res.status).toBe(200);
    return JSON.parse(res.body).result.ticket as string;
  };

  it('refuses API calls without the token', async () => {
    const res = await request(server, { method: 'POST', path: '/api/call/system.hardware', headers: json, body: '{}' });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
  });

  it('refuses a wrong token', async () => {
    const res = await request(server, { method: 'POST', path: '/api/call/system.hardware', headers: { ...json, 'x-fas-token': 'b'.repeat(64) }, body: '{}' });
    expect(res.status).toBe(401);
  });

  it('serves a report only with a ticket for it, and says in words when there is none', async () => {
    expect((await request(server, { path: '/api/report/some-run' })).status).toBe(401);
    const missing = await request(server, { path: `/api/report/no-such-run?ticket=${await ticket({ kind: 'report', id: 'no-such-run' })}` });
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^text\/plain/);
    expect(missing.body).toBe('No job with id "no-such-run".');
  });

  it('answers calls that carry the token', async () => {
    const res = await request(server, { method: 'POST', path: '/api/call/system.hardware', headers: { ...json, 'x-fas-token': server.token }, body: '{}' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).result.logicalCores).toBeGreaterThan(0);
  });

  it('maps API errors to HTTP statuses', async () => {
    const headers = { ...json, 'x-fas-token': server.token };
    expect((await request(server, { method: 'POST', path: '/api/call/nope', headers, body: '{}' })).status).toBe(404);
    expect((await request(server, { method: 'POST', path: '/api/call/app.info', headers, body: '{"x":1}' })).status).toBe(400);
    expect((await request(server, { method: 'POST', path: '/api/call/app.info', headers, body: 'not json' })).status).toBe(400);
  });

  it('refuses foreign Host headers (DNS rebinding)', async () => {
    const res = await request(server, { path: '/', headers: { host: 'evil.example:80' } });
    expect(res.status).toBe(403);
  });

  it('serves the UI with the token and a strict CSP', async () => {
    const res = await request(server, { path: '/' });
    expect(res.status).toBe(200);
    expect(res.body).toContain(`<meta name="fas-token" content="${server.token}">`);
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  });

  it('does not serve files outside the UI folder', async () => {
    const res = await request(server, { path: '/..%2Ffas-secret.txt' });
    expect(res.status).not.toBe(200);
    expect(res.body).not.toContain('secret');
  });

  it('streams core events as server-sent events, every one from the moment the stream is open', async () => {
    const events = `/api/events?ticket=${await ticket({ kind: 'events' })}`;
    const received = await new Promise<string>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: server.port, path: events }, (res) => {
        expect(res.headers['content-type']).toBe('text/event-stream');
        // The head is what opens a browser's EventSource: an event emitted now must reach it.
        core.emit({ name: 'job.progress', data: { jobId: 'j', kind: 'k', state: 'done', fraction: 1, message: 'ok', etaSeconds: 0, resumes: 0, revision: 1 } });
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          const line = text.split('\n').find((l) => l.startsWith('data: '));
          if (line) {
            req.destroy();
            resolve(line.slice(6));
          }
        });
      });
      req.on('error', reject);
    });
    expect(JSON.parse(received)).toMatchObject({ name: 'job.progress', data: { jobId: 'j', state: 'done' } });
  });

  describe('refuses what a web page could send', () => {
    const call = (headers: Record<string, string>, body = '{}', path = '/api/call/system.hardware') => request(server, { method: 'POST', path, headers, body });

    it('a plain HTML form post (text/plain or urlencoded) from a foreign Origin', async () => {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
        const res = await call({ 'content-type': type, origin: 'https://evil.example' }, '{}', `/api/call/system.hardware?token=${server.token}`);
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(JSON.parse(res.body).ok).toBe(false);
      }
    });

    it('a body not declared as JSON, even with the token', async () => {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', '']) {
        const res = await call({ 'content-type': type, 'x-fas-token': server.token });
        expect(res.status).toBe(415);
        expect(JSON.parse(res.body).error.message).toBe('The body must be sent as Content-Type: application/json.');
      }
      expect((await call({ 'content-type': 'application/json; charset=utf-8', 'x-fas-token': server.token })).status).toBe(200);
    });

    it('the token in the query string, for calls and for GETs', async () => {
      const res = await call({ ...json }, '{}', `/api/call/system.hardware?token=${server.token}`);
      expect(res.status).toBe(401);
      expect(JSON.parse(res.body).error.message).toMatch(/never accepted in a URL/);
      expect((await request(server, { path: `/api/events?token=${server.token}` })).status).toBe(401);
      expect((await request(server, { path: `/api/report/x?token=${server.token}` })).status).toBe(401);
    });

    it("any Origin but the app's own, and cross-site fetches without one", async () => {
      const headers = { ...json, 'x-fas-token': server.token };
      for (const origin of ['https://evil.example', 'null', 'http://127.0.0.1:1', `http://127.0.0.1.evil.example:${server.port}`]) {
        const res = await call({ ...headers, origin });
        expect(res.status).toBe(403);
      }
      for (const site of ['cross-site', 'same-site']) expect((await call({ ...headers, 'sec-fetch-site': site })).status).toBe(403);
      expect((await request(server, { path: '/', headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(403);
      expect((await call({ ...headers, origin: `http://127.0.0.1:${server.port}` })).status).toBe(200);
      expect((await call({ ...headers, 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    });
  });

  describe('tickets', () => {
    it('are issued only with the token and a JSON body', async () => {
      expect((await request(server, { method: 'POST', path: '/api/ticket', headers: json, body: '{"kind":"events"}' })).status).toBe(401);
      const bad = await request(server, { method: 'POST', path: '/api/ticket', headers: { ...json, 'x-fas-token': server.token }, body: '{"kind":"files"}' });
      expect(bad.status).toBe(400);
    });

    it('open one thing once', async () => {
      const t = await ticket({ kind: 'report', id: 'no-such-run' });
      expect((await request(server, { path: `/api/report/other-run?ticket=${t}` })).status).toBe(401);
      // Spent by the wrong use above.
      expect((await request(server, { path: `/api/report/no-such-run?ticket=${t}` })).status).toBe(401);
      const u = await ticket({ kind: 'report', id: 'no-such-run' });
      expect((await request(server, { path: `/api/report/no-such-run?ticket=${u}` })).status).toBe(404);
      expect((await request(server, { path: `/api/report/no-such-run?ticket=${u}` })).status).toBe(401);
    });

    it('expire', async () => {
      const t = await ticket({ kind: 'report', id: 'no-such-run' });
      clock += TICKET_LIFETIME_MS + 1;
      const res = await request(server, { path: `/api/report/no-such-run?ticket=${t}` });
      expect(res.status).toBe(401);
      expect(JSON.parse(res.body).error.message).toMatch(/expired ticket/);
    });

    it('are never the API token', async () => {
      const t = await ticket({ kind: 'events' });
      expect(t).not.toContain(server.token);
      expect((await request(server, { method: 'POST', path: '/api/call/system.hardware', headers: { ...json, 'x-fas-token': t }, body: '{}' })).status).toBe(
        401,
      );
    });
  });
});
