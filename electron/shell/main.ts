// The Electron shell: a window, a menu and the IPC transport. All application logic lives in the
// plain-Node core; this file only connects it to Electron.
import { app, BrowserWindow, ipcMain, session, shell } from 'electron';
import { fileURLToPath } from 'node:url';
import type { ApiResponse, IpcCallChannel, IpcEventChannel, IpcOpenReportChannel, ReportFile } from '../api/contract.js';
import { AppCore } from '../core/app-core.js';
import { builtInModels } from '../core/demo/demo-model.js';
import { builtUiDir } from '../server/ui-server.js';
import { buildMenu } from './menu.js';
import { secureWebPreferences } from './security.js';

const CALL: IpcCallChannel = 'fas:call';
const EVENT: IpcEventChannel = 'fas:event';
const OPEN_REPORT: IpcOpenReportChannel = 'fas:open-report';

function createWindow(core: AppCore): BrowserWindow {
  const win = new BrowserWindow({
    width: 1200,
    height: 800,
    minWidth: 480,
    minHeight: 400,
    title: 'FAS Spiking LLM',
    show: false,
    webPreferences: secureWebPreferences(fileURLToPath(new URL('./preload.cjs', import.meta.url))),
  });
  win.once('ready-to-show', () => win.show());
  // The app is one local page: block navigation; open web links in the user's browser.
  win.webContents.on('will-navigate', (event) => event.preventDefault());
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  const off = core.onEvent((event) => {
    if (!win.isDestroyed()) win.webContents.send(EVENT, event);
  });
  win.on('closed', off);
  void win.loadFile(`${builtUiDir()}/index.html`);
  return win;
}

// One app per user: a second start shows the first window instead of running jobs beside it.
if (!app.requestSingleInstanceLock()) app.exit(0);
await app.whenReady();
const core = new AppCore({ builtInModels: builtInModels(), processDescription: 'the FAS Spiking LLM desktop app' });
// Nothing but writing to the clipboard ("Copy diagnostics", chat export) is granted to the page.
session.defaultSession.setPermissionRequestHandler((_wc, permission, callback) => callback(permission === 'clipboard-sanitized-write'));
const untrusted = { ok: false, error: { code: 'unauthorized', message: 'Untrusted sender.' } } as const;
// Only our own page may call: reject frames loaded from anywhere but the app's files.
const fromApp = (event: Electron.IpcMainInvokeEvent) => event.senderFrame?.url.startsWith('file://') === true;
ipcMain.handle(CALL, (event, method: unknown, params: unknown) => {
  if (!fromApp(event)) return untrusted;
  if (typeof method !== 'string') return { ok: false, error: { code: 'bad_request', message: 'The method must be a string.' } };
  return core.handle(method, params);
});
// The report runs its own charts, which the app's content policy would block: the system's browser
// shows it. Only a finished evaluation's report is opened ('jobs.report' checks the run).
ipcMain.handle(OPEN_REPORT, async (event, id: unknown): Promise<ApiResponse<null>> => {
  if (!fromApp(event)) return untrusted;
  const report = (await core.handle('jobs.report', { id })) as ApiResponse<ReportFile>;
  if (!report.ok) return report;
  const problem = await shell.openPath(report.result.path);
  return problem ? { ok: false, error: { code: 'failed', message: `The report could not be opened: ${problem}` } } : { ok: true, result: null };
});
buildMenu();
const win = createWindow(core);
app.on('second-instance', () => {
  if (win.isMinimized()) win.restore();
  win.focus();
});
app.on('window-all-closed', () => app.quit());
