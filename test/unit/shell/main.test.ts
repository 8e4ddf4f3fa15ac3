// The Electron shell with 'electron' mocked (no Electron binary can run here): checks the
// security settings of the window and the IPC gate.
/* eslint-disable @typescript-eslint/no-explicit-any -- the mock stands in for Electron's own loosely typed handlers */
import { describe, expect, it, vi } from 'vitest';

const created: {
  options: Record<string, any>;
  handlers: Record<string, (...a: any[]) => any>;
  openHandler?: (d: { url: string }) => unknown;
  permissionHandler?: (...a: any[]) => void;
  loadedUrl?: string;
} = {
  options: {},
  handlers: {},
};
const ipcHandlers: Record<string, (...a: any[]) => any> = {};
const openExternal = vi.fn();
const openPath = vi.fn(async (_path: string) => '');
const appOn = vi.fn();
const focusWindow = vi.fn();
const appExit = vi.fn();
const showMessageBox = vi.fn(async () => ({ response: 0 }));
const protocolHandlers: Record<string, (request: { url: string }) => Promise<Response>> = {};
const privileged: unknown[] = [];

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
    isMinimized() {
      return false;
    }
    restore() {}
    focus = focusWindow;
    isDestroyed() {
      return false;
    }
    loadURL = vi.fn(async (url: string) => (created.loadedUrl = url));
  }
  return {
    app: { whenReady: async () => undefined, on: appOn, quit: vi.fn(), exit: appExit, requestSingleInstanceLock: () => true, getName: () => 'FAS Spiking LLM' },
    BrowserWindow,
    ipcMain: { handle: (channel: string, fn: (...a: any[]) => any) => (ipcHandlers[channel] = fn) },
    session: { defaultSession: { setPermissionRequestHandler: (fn: (...a: any[]) => void) => (created.permissionHandler = fn) } },
    shell: { openExternal, openPath },
    dialog: { showMessageBox },
    protocol: {
      registerSchemesAsPrivileged: (schemes: unknown[]) => privileged.push(...schemes),
      handle: (scheme: string, fn: (request: { url: string }) => Promise<Response>) => (protocolHandlers[scheme] = fn),
    },
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

  it('serves the UI from its own privileged scheme, app://fas/, with the content policy', async () => {
    expect(privileged).toEqual([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
    expect(created.loadedUrl).toBe('app://fas/index.html');
    const page = await protocolHandlers.app!({ url: 'app://fas/index.html' });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect((await protocolHandlers.app!({ url: 'app://fas/..%2F..%2Fpackage.json' })).status).not.toBe(200);
    expect((await protocolHandlers.app!({ url: 'app://other/index.html' })).status).toBe(403);
  });

  it('denies new windows and opens https links in the system browser only after the user agrees', async () => {
    expect(created.openHandler!({ url: 'https://example.com/' })).toEqual({ action: 'deny' });
    await vi.waitFor(() => expect(openExternal).toHaveBeenCalledWith('https://example.com/'));
    expect(showMessageBox).toHaveBeenCalledTimes(1);
    showMessageBox.mockResolvedValueOnce({ response: 1 });
    created.openHandler!({ url: 'https://example.org/' });
    await vi.waitFor(() => expect(showMessageBox).toHaveBeenCalledTimes(2));
    for (const url of ['file:///etc/passwd', 'http://example.com/', 'javascript:alert(1)']) expect(created.openHandler!({ url })).toEqual({ action: 'deny' });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(showMessageBox).toHaveBeenCalledTimes(2);
    expect(openExternal).toHaveBeenCalledTimes(1);
  });

  it('answers IPC calls from the app page and refuses other senders, local files included', async () => {
    const handler = ipcHandlers['fas:call']!;
    const fromApp = await handler({ senderFrame: { url: 'app://fas/index.html' } }, 'app.info', {});
    expect(fromApp.ok).toBe(true);
    for (const url of ['https://evil.example/', 'file:///app/index.html', 'file:///home/user/Downloads/page.html', 'app://evil/index.html']) {
      expect(await handler({ senderFrame: { url } }, 'app.info', {})).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    }
    expect(await handler({}, 'app.info', {})).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    const badMethod = await handler({ senderFrame: { url: 'app://fas/index.html' } }, 42, {});
    expect(badMethod).toMatchObject({ ok: false, error: { code: 'bad_request' } });
  });

  it("opens only a finished evaluation's report, and only for the app page", async () => {
    const handler = ipcHandlers['fas:open-report']!;
    expect(await handler({ senderFrame: { url: 'https://evil.example/' } }, 'any')).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    expect(await handler({ senderFrame: { url: 'file:///app/index.html' } }, 'any')).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    expect(await handler({ senderFrame: { url: 'app://fas/index.html' } }, 'no-such-run')).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(openPath).not.toHaveBeenCalled();
  });

  it('runs once per user: a second start focuses the first window', () => {
    expect(appExit).not.toHaveBeenCalled();
    const secondInstance = appOn.mock.calls.find(([name]) => name === 'second-instance')?.[1] as () => void;
    secondInstance();
    expect(focusWindow).toHaveBeenCalled();
  });
});
