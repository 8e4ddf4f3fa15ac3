// The model a person chose to go on with (a library card's action, a result's next step): the wizard
// it leads to opens with that model chosen. The next wizard that loads takes it, once.
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
