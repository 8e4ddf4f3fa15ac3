// The Electron shell: a window, a menu and the IPC transport. All application logic lives in the
// plain-Node core; the decisions this file applies are in app-protocol.ts and open-checks.ts.
import { app, BrowserWindow, dialog, ipcMain, protocol, session, shell } from 'electron';
import { fileURLToPath } from 'node:url';
import type { ApiResponse, IpcCallChannel, IpcEventChannel, IpcOpenReportChannel, ReportFile } from '../api/contract.js';
import { AppCore } from '../core/app-core.js';
import { builtInModels } from '../core/demo/demo-model.js';
import { builtUiDir } from '../server/ui-server.js';
import { APP_INDEX_URL, APP_SCHEME, appResponse, isAppUrl } from './app-protocol.js';
import { buildMenu } from './menu.js';
import { openLinkWithConsent, reportPathProblem } from './open-checks.js';
import { secureWebPreferences } from './security.js';

const CALL: IpcCallChannel = 'fas:call';
const EVENT: IpcEventChannel = 'fas:event';
const OPEN_REPORT: IpcOpenReportChannel = 'fas:open-report';

// app://fas/ is a standard, secure origin of its own (before 'ready', as Electron requires).
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

/** Asks the user before a link leaves the app for the system browser. */
async function confirmLink(win: BrowserWindow, url: string): Promise<boolean> {
  const { response } = await dialog.showMessageBox(win, {
    type: 'question',
    buttons: ['Open in browser', 'Cancel'],
    defaultId: 1,
    cancelId: 1,
    message: 'Open this link in your web browser?',
    detail: url,
  });
  return response === 0;
}

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
  // The app is one local page: block navigation; https links go to the user's browser once they agree.
  win.webContents.on('will-navigate', (event) => event.preventDefault());
  win.webContents.setWindowOpenHandler(({ url }) => {
    void openLinkWithConsent(
      url,
      (link) => confirmLink(win, link),
      (link) => shell.openExternal(link),
    );
    return { action: 'deny' };
  });
  const off = core.onEvent((event) => {
    if (!win.isDestroyed()) win.webContents.send(EVENT, event);
  });
  win.on('closed', off);
  void win.loadURL(APP_INDEX_URL);
  return win;
}

// One app per user: a second start shows the first window instead of running jobs beside it.
if (!app.requestSingleInstanceLock()) app.exit(0);
await app.whenReady();
const uiDir = builtUiDir();
protocol.handle(APP_SCHEME, async (request) => {
  const answer = await appResponse(uiDir, request.url);
  return new Response(new Uint8Array(answer.body), { status: answer.status, headers: answer.headers });
});
const core = new AppCore({ builtInModels: builtInModels(), processDescription: 'the FAS Spiking LLM desktop app' });
// Nothing but writing to the clipboard ("Copy diagnostics", chat export) is granted to the page.
session.defaultSession.setPermissionRequestHandler((_wc, permission, callback) => callback(permission === 'clipboard-sanitized-write'));
const untrusted = { ok: false, error: { code: 'unauthorized', message: 'Untrusted sender.' } } as const;
// Only the app's own page (app://fas/) may call: never another origin, nor a local file.
const fromApp = (event: Electron.IpcMainInvokeEvent) => isAppUrl(event.senderFrame?.url);
ipcMain.handle(CALL, (event, method: unknown, params: unknown) => {
  if (!fromApp(event)) return untrusted;
  if (typeof method !== 'string') return { ok: false, error: { code: 'bad_request', message: 'The method must be a string.' } };
  return core.handle(method, params);
});
// The report runs its own charts, which the app's content policy would block: the system's browser
// shows it. Only a finished evaluation's report is opened ('jobs.report' checks the run), and only
// when it is that run's own report.html inside the workspace.
ipcMain.handle(OPEN_REPORT, async (event, id: unknown): Promise<ApiResponse<null>> => {
  if (!fromApp(event)) return untrusted;
  const report = (await core.handle('jobs.report', { id })) as ApiResponse<ReportFile>;
  if (!report.ok) return report;
  const problem = await reportPathProblem(report.result.path, core.jobs.get(id as string).runDir, core.workspaceDir);
  if (problem) return { ok: false, error: { code: 'bad_request', message: problem } };
  const failure = await shell.openPath(report.result.path);
  return failure ? { ok: false, error: { code: 'failed', message: `The report could not be opened: ${failure}` } } : { ok: true, result: null };
});
buildMenu();
const win = createWindow(core);
app.on('second-instance', () => {
  if (win.isMinimized()) win.restore();
  win.focus();
});
app.on('window-all-closed', () => app.quit());
