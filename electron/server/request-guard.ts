// The checks every request to the local server passes before it is routed. A web page on any site
// (or another local page) can make the user's browser send requests to 127.0.0.1; these rules make
// sure none of them can drive the app:
// - the Host must be this machine (a DNS-rebinding page arrives with its own name);
// - the Origin, or when a browser sends none, Sec-Fetch-Site, must be the app's own page;
// - a POST must declare a JSON body, which an HTML form cannot send (forms send text/plain,
//   urlencoded or multipart; a script asking for JSON across origins needs a CORS preflight,
//   which this server never grants);
// - calls carry the token in the x-fas-token header only, never in the URL.
import { timingSafeEqual } from 'node:crypto';
import type http from 'node:http';

export type Refusal = { status: number; message: string };

const LOCAL_HOST = /^(127\.0\.0\.1|localhost)(:\d+)?$/;

/** The request's Host when it names this machine, else undefined. */
export function localHost(req: http.IncomingMessage): string | undefined {
  const host = req.headers.host ?? '';
  return LOCAL_HOST.test(host) ? host : undefined;
}

/**
 * A request comes from the app's own page (or from a program, or a URL the user typed) when its
 * Origin is this server's, or, without an Origin, when the browser says it is not cross-origin.
 * Clients that are not browsers send neither header, and no web page can make a browser drop both.
 */
export function originRefusal(req: http.IncomingMessage, port: number): Refusal | undefined {
  const origin = req.headers.origin;
  if (origin !== undefined) {
    const own = [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
    return own.includes(origin)
      ? undefined
      : { status: 403, message: `Requests from ${origin} are not accepted: only the app's own page may use this server.` };
  }
  const site = req.headers['sec-fetch-site'];
  if (site === undefined || site === 'same-origin' || site === 'none') return undefined;
  return { status: 403, message: "Requests from other pages are not accepted: only the app's own page may use this server." };
}

/** POST bodies must be declared as JSON (application/json, with or without a charset). */
export function contentTypeRefusal(req: http.IncomingMessage): Refusal | undefined {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' ? undefined : { status: 415, message: 'The body must be sent as Content-Type: application/json.' };
}

/** The token from the x-fas-token header; the URL is never looked at. */
export function hasHeaderToken(req: http.IncomingMessage, token: string): boolean {
  const given = req.headers['x-fas-token'];
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
