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
    call: async <M extends MethodName>(method: M, params: ParamsOf<M>) => unwrap((await bridge.call(method, params)) as ApiResponse<ResultOf<M>>),
    onEvent: (listener, onConnected) => {
      // The main process sends every event to the window from its start: subscribed is connected.
      const off = bridge.onEvent(listener);
      onConnected?.();
      return off;
    },
    openReport: async (jobId) => {
      unwrap(await bridge.openReport(jobId));
    },
  };
}

export function httpApi(baseUrl: string, token: string): FasApi {
  // Calls carry the token in a header only; the two URLs a browser opens without headers (the event
  // stream, a report tab) carry a single-use ticket from POST api/ticket instead, so the token never
  // appears in a URL or the browser's history.
  async function post<T>(path: string, body: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(new URL(path, baseUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-fas-token': token },
        body: JSON.stringify(body),
      });
    } catch {
      throw new ApiCallError('failed', 'The app server is not reachable. Is "npm run serve" still running?');
    }
    return unwrap((await res.json()) as ApiResponse<T>);
  }
  const ticketFor = async (scope: { kind: 'events' } | { kind: 'report'; id: string }) => (await post<{ ticket: string }>('api/ticket', scope)).ticket;

  return {
    call: <M extends MethodName>(method: M, params: ParamsOf<M>) => post<ResultOf<M>>(`api/call/${method}`, params),
    onEvent(listener: (event: ApiEvent) => void, onConnected?: () => void) {
      let source: EventSource | undefined;
      let retry: ReturnType<typeof setTimeout> | undefined;
      let closed = false;
      const reconnectSoon = () => {
        if (!closed) retry = setTimeout(() => void connect(), 1000);
      };
      const connect = async () => {
        let ticket: string;
        try {
          ticket = await ticketFor({ kind: 'events' });
        } catch {
          return reconnectSoon();
        }
        if (closed) return;
        source = new EventSource(new URL(`api/events?ticket=${encodeURIComponent(ticket)}`, baseUrl));
        // The server subscribes before it answers, so once the stream is open no event is missed.
        source.onopen = () => onConnected?.();
        source.onmessage = (msg) => listener(JSON.parse(msg.data as string) as ApiEvent);
        // EventSource would retry with the same, spent ticket: reconnect with a fresh one instead.
        source.onerror = () => {
          source?.close();
          reconnectSoon();
        };
      };
      void connect();
      return () => {
        closed = true;
        clearTimeout(retry);
        source?.close();
      };
    },
    async openReport(jobId: string) {
      // The tab is opened at once, while the click still counts as the user's (browsers block later
      // pop-ups), and sent to the report once its ticket is there.
      const tab = window.open('', '_blank');
      if (!tab) throw new ApiCallError('failed', 'The browser blocked the new tab: allow pop-ups for this page, or save the report instead.');
      tab.opener = null;
      try {
        const ticket = await ticketFor({ kind: 'report', id: jobId });
        tab.location.href = new URL(`api/report/${encodeURIComponent(jobId)}?ticket=${encodeURIComponent(ticket)}`, baseUrl).href;
      } catch (err) {
        tab.close();
        throw err;
      }
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
