// What a person chose to go on with: a model (a library card's action, a result's next step), or a
// stopped run's settings (to try again): the wizard it leads to opens with it. The next wizard that
// loads takes it, once.
let asked: string | null = null;

export function goOnWith(modelId: string): void {
  asked = modelId;
}

/** The model a wizard starts with, among those it can use: the one asked for, else the only one, else none (''). */
export function preselect(ids: readonly string[]): string {
  const wanted = asked;
  asked = null;
  if (wanted && ids.includes(wanted)) return wanted;
  return ids.length === 1 ? ids[0]! : '';
}

let retry: { kind: string; params: Record<string, unknown> } | null = null;

/** A stopped run's settings, for its kind's wizard to open with ("Try again with these settings"). */
export function retryWith(kind: string, params: Record<string, unknown>): void {
  retry = { kind, params };
}

/** The settings to open this kind's wizard with, once; null when none were asked for. */
export function takeRetry(kind: string): Record<string, unknown> | null {
  const wanted = retry?.kind === kind ? retry.params : null;
  retry = null;
  return wanted;
}
