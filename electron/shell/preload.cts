// The sandboxed preload: the only bridge between the page and the main process. Sandboxed
// preloads cannot import modules, so the channel names are spelled out (their types come from the contract).
import electron = require('electron');
import type { ApiEvent, FasBridge, IpcCallChannel, IpcEventChannel, IpcOpenReportChannel } from '../api/contract.js';

const { contextBridge, ipcRenderer } = electron;

const CALL: IpcCallChannel = 'fas:call';
const EVENT: IpcEventChannel = 'fas:event';
const OPEN_REPORT: IpcOpenReportChannel = 'fas:open-report';

const bridge: FasBridge = {
  call: (method, params) => ipcRenderer.invoke(CALL, method, params),
  onEvent: (listener) => {
    const handler = (_event: electron.IpcRendererEvent, data: ApiEvent) => listener(data);
    ipcRenderer.on(EVENT, handler);
    return () => ipcRenderer.off(EVENT, handler);
  },
  openReport: (jobId) => ipcRenderer.invoke(OPEN_REPORT, jobId),
};

contextBridge.exposeInMainWorld('fasBridge', bridge);
