import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppCore } from '../../../electron/core/app-core.js';
import { startServer, type RunningServer } from '../../../electron/server/http-server.js';

/** A raw request, so the test controls the Host header and the path exactly. */
function request(server: RunningServer, opts: { method?: string; path: string; headers?: Record<string, string>; body?: string }) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: server.port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('local HTTP server', () => {
  const core = new AppCore({ workspaceDir: '/tmp/fas-test-workspace' });
  let server: RunningServer;
  const uiDir = mkdtempSync(join(tmpdir(), 'fas-ui-'));

  beforeAll(async () => {
    writeFileSync(join(uiDir, 'index.html'), '<html><head><title>t</title></head><body></body></html>');
    writeFileSync(join(tmpdir(), 'fas-secret.txt'), 'secret');
    server = await startServer({ core, uiDir, token: 'a'.repeat(64) });
  });
  afterAll(() => server.close());

  it('binds to 127.0.0.1 only', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('refuses API calls without the token', async () => {
    const res = await request(server, { method: 'POST', path: '/api/call/system.hardware', body: '{}' });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
  });

  it('refuses a wrong token', async () => {
    const res = await request(server, { method: 'POST', path: '/api/call/system.hardware', headers: { 'x-fas-token': 'b'.repeat(64) }, body: '{}' });
    expect(res.status).toBe(401);
  });

  it('serves a report only with the token, and says in words when there is none', async () => {
    expect((await request(server, { path: '/api/report/some-run' })).status).toBe(401);
    const missing = await request(server, { path: `/api/report/no-such-run?token=${server.token}` });
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^text\/plain/);
    expect(missing.body).toBe('No job with id "no-such-run".');
  });

  it('answers calls that carry the token', async () => {
    const res = await request(server, { method: 'POST', path: '/api/call/system.hardware', headers: { 'x-fas-token': server.token }, body: '{}' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).result.logicalCores).toBeGreaterThan(0);
  });

  it('maps API errors to HTTP statuses', async () => {
    const headers = { 'x-fas-token': server.token };
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

  it('streams core events as server-sent events', async () => {
    const received = await new Promise<string>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: server.port, path: `/api/events?token=${server.token}` }, (res) => {
        expect(res.headers['content-type']).toBe('text/event-stream');
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          if (text.includes(': connected')) {
            core.emit({ name: 'job.progress', data: { jobId: 'j', kind: 'k', state: 'done', fraction: 1, message: 'ok', etaSeconds: 0 } });
          }
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
});
