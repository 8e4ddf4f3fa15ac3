// The Electron shell with 'electron' mocked (no Electron binary can run here): checks the
// security settings of the window and the IPC gate.
/* eslint-disable @typescript-eslint/no-explicit-any -- the mock stands in for Electron's own loosely typed handlers */
import { describe, expect, it, vi } from 'vitest';

const created: {
  options: Record<string, any>;
  handlers: Record<string, (...a: any[]) => any>;
  openHandler?: (d: { url: string }) => unknown;
  permissionHandler?: (...a: any[]) => void;
} = {
  options: {},
  handlers: {},
};
const ipcHandlers: Record<string, (...a: any[]) => any> = {};
const openExternal = vi.fn();
const openPath = vi.fn(async (_path: string) => '');

vi.mock('electron', () => {
  class BrowserWindow {
    webContents = {
      on: (name: string, fn: (...a: any[]) => any) => (created.handlers[name] = fn),
      setWindowOpenHandler: (fn: (d: { url: string }) => unknown) => (created.openHandler = fn),
      send: vi.fn(),
    };
    constructor(options: Record<string, any>) {
      created.options = options;
    }
    once() {}
    on() {}
    isDestroyed() {
      return false;
    }
    loadFile = vi.fn(async () => undefined);
  }
  return {
    app: { whenReady: async () => undefined, on: vi.fn(), quit: vi.fn(), getName: () => 'FAS Spiking LLM' },
    BrowserWindow,
    ipcMain: { handle: (channel: string, fn: (...a: any[]) => any) => (ipcHandlers[channel] = fn) },
    session: { defaultSession: { setPermissionRequestHandler: (fn: (...a: any[]) => void) => (created.permissionHandler = fn) } },
    shell: { openExternal, openPath },
    Menu: { buildFromTemplate: vi.fn(() => ({})), setApplicationMenu: vi.fn() },
  };
});

describe('Electron shell', async () => {
  await import('../../../electron/shell/main.js');

  it('opens the window sandboxed, isolated and without Node', () => {
    const prefs = created.options.webPreferences;
    expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true });
    expect(prefs.preload).toMatch(/preload\.cjs$/);
  });

  it('grants the page only clipboard writes', () => {
    const answer = (permission: string) => {
      let granted: boolean | undefined;
      created.permissionHandler!({}, permission, (ok: boolean) => (granted = ok));
      return granted;
    };
    expect(answer('clipboard-sanitized-write')).toBe(true);
    for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal']) expect(answer(p)).toBe(false);
  });

  it('blocks navigation away from the app', () => {
    const event = { preventDefault: vi.fn() };
    created.handlers['will-navigate']!(event, 'https://example.com');
    expect(event.preventDefault).toHaveBeenCalled();
  });

  it('denies new windows and opens https links in the system browser', () => {
    expect(created.openHandler!({ url: 'https://example.com/' })).toEqual({ action: 'deny' });
    expect(openExternal).toHaveBeenCalledWith('https://example.com/');
    expect(created.openHandler!({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(openExternal).toHaveBeenCalledTimes(1);
  });

  it('answers IPC calls from the app page and refuses other senders', async () => {
    const handler = ipcHandlers['fas:call']!;
    const fromApp = await handler({ senderFrame: { url: 'file:///app/index.html' } }, 'app.info', {});
    expect(fromApp.ok).toBe(true);
    const fromWeb = await handler({ senderFrame: { url: 'https://evil.example/' } }, 'app.info', {});
    expect(fromWeb).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    const badMethod = await handler({ senderFrame: { url: 'file:///app/index.html' } }, 42, {});
    expect(badMethod).toMatchObject({ ok: false, error: { code: 'bad_request' } });
  });

  it("opens only a finished evaluation's report, and only for the app page", async () => {
    const handler = ipcHandlers['fas:open-report']!;
    expect(await handler({ senderFrame: { url: 'https://evil.example/' } }, 'any')).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    expect(await handler({ senderFrame: { url: 'file:///app/index.html' } }, 'no-such-run')).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(openPath).not.toHaveBeenCalled();
  });
});
