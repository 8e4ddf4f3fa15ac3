// The sandboxed preload: the only bridge between the page and the main process. Sandboxed
// preloads cannot import modules, so the channel names are spelled out (their types come from the contract).
import electron = require('electron');
import type { ApiEvent, FasBridge, IpcCallChannel, IpcEventChannel } from '../api/contract.js';

const { contextBridge, ipcRenderer } = electron;

const CALL: IpcCallChannel = 'fas:call';
const EVENT: IpcEventChannel = 'fas:event';

const bridge: FasBridge = {
  call: (method, params) => ipcRenderer.invoke(CALL, method, params),
  onEvent: (listener) => {
    const handler = (_event: electron.IpcRendererEvent, data: ApiEvent) => listener(data);
    ipcRenderer.on(EVENT, handler);
    return () => ipcRenderer.off(EVENT, handler);
  },
};

contextBridge.exposeInMainWorld('fasBridge', bridge);
