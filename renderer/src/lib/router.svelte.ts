// Hash routing (#/library, #/runs/<id>): works from file:// under Electron and from the local
// server alike, and a reload keeps the page.
export interface Route {
  page: string;
  /** The part after the page, e.g. a run id. */
  param: string | null;
}

export function href(page: string, param?: string): string {
  return `#/${page}${param ? `/${encodeURIComponent(param)}` : ''}`;
}

function parse(hash: string): Route {
  const [page = '', param] = hash.replace(/^#\/?/, '').split('/');
  return { page, param: param ? decodeURIComponent(param) : null };
}

export class HashRouter {
  route: Route = $state(parse(window.location.hash));

  /** Follows the address bar; returns the function that stops following it. */
  connect(): () => void {
    const update = () => (this.route = parse(window.location.hash));
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }

  /** Shows `page` in place of an unknown address, without adding a history entry. */
  replace(page: string): void {
    window.history.replaceState(null, '', href(page));
    this.route = { page, param: null };
  }
}
