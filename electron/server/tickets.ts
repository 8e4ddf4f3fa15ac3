// Single-use, short-lived tickets for the two GETs a browser cannot send a header with (the event
// stream and a report tab). The page asks for one with an authenticated POST and puts it in the URL,
// so the API token itself never appears in a URL, a browser's history or a server log.
import { randomBytes } from 'node:crypto';

/** What a ticket opens: the event stream, or one run's report. */
export type TicketScope = { kind: 'events' } | { kind: 'report'; id: string };

/** Long enough for the page to open the URL it just asked for, short enough that a leaked one is useless. */
export const TICKET_LIFETIME_MS = 30_000;

export class TicketBook {
  private readonly open = new Map<string, { scope: string; expires: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  issue(scope: TicketScope): string {
    this.sweep();
    const ticket = randomBytes(24).toString('hex');
    this.open.set(ticket, { scope: scopeKey(scope), expires: this.now() + TICKET_LIFETIME_MS });
    return ticket;
  }

  /** True once for a live ticket of this scope; the ticket is spent either way. */
  redeem(ticket: string, scope: TicketScope): boolean {
    const entry = this.open.get(ticket);
    if (!entry) return false;
    this.open.delete(ticket);
    return entry.scope === scopeKey(scope) && this.now() <= entry.expires;
  }

  private sweep(): void {
    const now = this.now();
    for (const [ticket, entry] of this.open) if (now > entry.expires) this.open.delete(ticket);
  }
}

function scopeKey(scope: TicketScope): string {
  return scope.kind === 'events' ? 'events' : `report:${scope.id}`;
}
