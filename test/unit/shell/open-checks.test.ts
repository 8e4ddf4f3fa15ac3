import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { isAppUrl } from '../../../electron/shell/app-protocol.js';
import { isOpenableLink, openLinkWithConsent, reportPathProblem } from '../../../electron/shell/open-checks.js';

describe('what the Electron shell opens', () => {
  it('knows the app page by its scheme and host only', () => {
    expect(isAppUrl('app://fas/index.html')).toBe(true);
    for (const url of ['file:///app/index.html', 'app://fas.evil/index.html', 'https://fas/', 'app://evil/', undefined, 'not a url'])
      expect(isAppUrl(url)).toBe(false);
  });

  it('opens only https links, and only when the user agrees', async () => {
    expect(['https://example.com', 'http://example.com', 'file:///etc/passwd', 'javascript:alert(1)', 'smb://host/share'].map(isOpenableLink)).toEqual([
      true,
      false,
      false,
      false,
      false,
    ]);
    const open = vi.fn(async () => undefined);
    expect(await openLinkWithConsent('https://example.com/', async () => false, open)).toBe(false);
    expect(open).not.toHaveBeenCalled();
    const confirm = vi.fn(async () => true);
    expect(await openLinkWithConsent('file:///etc/passwd', confirm, open)).toBe(false);
    expect(confirm).not.toHaveBeenCalled();
    expect(await openLinkWithConsent('https://example.com/', confirm, open)).toBe(true);
    expect(open).toHaveBeenCalledWith('https://example.com/');
  });

  it("opens a report only when it is the run's own report.html inside the workspace", async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'fas-ws-'));
    const runDir = join(workspace, 'runs', 'r1');
    mkdirSync(runDir, { recursive: true });
    writeFileSync(join(runDir, 'report.html'), '<html></html>');
    writeFileSync(join(runDir, 'evil.exe'), 'MZ');
    expect(await reportPathProblem(join(runDir, 'report.html'), runDir, workspace)).toBeNull();
    expect(await reportPathProblem(join(runDir, 'evil.exe'), runDir, workspace)).toMatch(/is not the run's own report\.html/);
    // A report.html that is a link to a file elsewhere is not the run's own.
    const elsewhere = mkdtempSync(join(tmpdir(), 'fas-elsewhere-'));
    writeFileSync(join(elsewhere, 'page.html'), '<html></html>');
    const linked = join(workspace, 'runs', 'r2');
    mkdirSync(linked);
    symlinkSync(join(elsewhere, 'page.html'), join(linked, 'report.html'));
    expect(await reportPathProblem(join(linked, 'report.html'), linked, workspace)).toMatch(/is not the run's own report\.html/);
    // A run folder outside the workspace.
    writeFileSync(join(elsewhere, 'report.html'), '<html></html>');
    expect(await reportPathProblem(join(elsewhere, 'report.html'), elsewhere, workspace)).toMatch(/is not inside the app's workspace/);
    expect(await reportPathProblem(join(runDir, 'gone.html'), runDir, workspace)).toMatch(/no longer at/);
  });
});
