import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppCore } from '../../../electron/core/app-core.js';
import type { ApiEvent } from '../../../electron/api/contract.js';

describe('AppCore', () => {
  // Each suite its own workspace: one process holds a workspace at a time.
  const workspaceDir = mkdtempSync(join(tmpdir(), 'fas-app-core-'));
  const core = new AppCore({ workspaceDir });

  it('answers app.info with the package version and workspace', async () => {
    const info = await core.call('app.info', {});
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.workspaceDir).toBe(workspaceDir);
  });

  it('reports real hardware from the native addon', async () => {
    const hw = await core.call('system.hardware', {});
    expect(hw.logicalCores).toBeGreaterThan(0);
    expect(hw.cpuModel.length).toBeGreaterThan(0);
    expect(hw.totalMemoryBytes).toBeGreaterThan(0);
    expect(hw.backend === 'cpu' || hw.gpu.usable).toBe(true);
    if (!hw.gpu.usable) expect(hw.gpu.reason).toBeTruthy();
  });

  it('refuses unknown methods without throwing', async () => {
    const res = await core.handle('system.format-disk', {});
    expect(res).toEqual({ ok: false, error: { code: 'not_found', message: 'Unknown request "system.format-disk".' } });
  });

  it('refuses methods inherited from Object.prototype', async () => {
    const res = await core.handle('constructor', {});
    expect(res.ok).toBe(false);
  });

  it('validates parameters before a handler runs', async () => {
    const res = await core.handle('system.hardware', { unexpected: 1 });
    expect(res.ok).toBe(false);
    if (!res.ok) {
      expect(res.error.code).toBe('bad_request');
      expect(res.error.message).toContain('system.hardware');
    }
  });

  it('delivers events to subscribers until they unsubscribe', () => {
    const seen: ApiEvent[] = [];
    const off = core.onEvent((e) => seen.push(e));
    const event: ApiEvent = {
      name: 'job.progress',
      data: { jobId: 'j1', kind: 'test', state: 'running', fraction: 0.5, message: 'half', etaSeconds: 3, resumes: 0, revision: 1 },
    };
    core.emit(event);
    off();
    core.emit(event);
    expect(seen).toEqual([event]);
  });
});
