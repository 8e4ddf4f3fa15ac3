// The UI's one API: over the Electron preload bridge when it exists, else over the local HTTP
// server that served this page (token from the page's meta tag). Both speak the same contract.
import type { ApiEvent, ApiResponse, FasApi, FasBridge, MethodName, ParamsOf, ResultOf } from '../../../electron/api/contract';

export class ApiCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function unwrap<T>(res: ApiResponse<T>): T {
  if (!res.ok) throw new ApiCallError(res.error.code, res.error.message);
  return res.result;
}

export function ipcApi(bridge: FasBridge): FasApi {
  return {
    call: async <M extends MethodName>(method: M, params: ParamsOf<M>) =>
      unwrap((await bridge.call(method, params)) as ApiResponse<ResultOf<M>>),
    onEvent: (listener) => bridge.onEvent(listener),
    openReport: async (jobId) => {
      unwrap(await bridge.openReport(jobId));
    },
  };
}

export function httpApi(baseUrl: string, token: string): FasApi {
  return {
    async call<M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
      let res: Response;
      try {
        res = await fetch(new URL(`api/call/${method}`, baseUrl), {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-fas-token': token },
          body: JSON.stringify(params),
        });
      } catch {
        throw new ApiCallError('failed', 'The app server is not reachable. Is "npm run serve" still running?');
      }
      return unwrap((await res.json()) as ApiResponse<ResultOf<M>>);
    },
    onEvent(listener: (event: ApiEvent) => void) {
      const source = new EventSource(new URL(`api/events?token=${encodeURIComponent(token)}`, baseUrl));
      source.onmessage = (msg) => listener(JSON.parse(msg.data as string) as ApiEvent);
      return () => source.close();
    },
    async openReport(jobId: string) {
      // Opened at once, while the click still counts as the user's: browsers block later pop-ups.
      const tab = window.open(new URL(`api/report/${encodeURIComponent(jobId)}?token=${encodeURIComponent(token)}`, baseUrl), '_blank');
      if (!tab) throw new ApiCallError('failed', 'The browser blocked the new tab: allow pop-ups for this page, or save the report instead.');
      tab.opener = null;
    },
  };
}

declare global {
  interface Window {
    fasBridge?: FasBridge;
  }
}

export function connectApi(): FasApi {
  if (window.fasBridge) return ipcApi(window.fasBridge);
  const token = document.querySelector<HTMLMetaElement>('meta[name="fas-token"]')?.content;
  if (!token) throw new Error('This page was not opened from the app server, so it has no API token.');
  return httpApi(window.location.href, token);
}
