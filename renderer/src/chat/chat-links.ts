// Where Chat's address leads (#/chat/<param>): a saved conversation by id, a new conversation with a
// model ("with:<model id>", as "Chat with it" on a result opens it), or the side-by-side view
// ("compare", or "compare:<model id>" to put that converted model beside the original it came from).
import type { ChatMode, ModelEntry } from '../../../electron/api/contract';
import { defaultMode } from '../../../electron/shared/chat-modes';
import { href } from '../lib/router.svelte';

const WITH = 'with:';
const COMPARE = 'compare';

export type ChatAddress = { view: 'conversation'; chatId: string | null } | { view: 'new'; modelId: string } | { view: 'compare'; modelId: string | null };

export function chatAddress(param: string | null): ChatAddress {
  if (param === COMPARE) return { view: 'compare', modelId: null };
  if (param?.startsWith(`${COMPARE}:`)) return { view: 'compare', modelId: param.slice(COMPARE.length + 1) };
  if (param?.startsWith(WITH)) return { view: 'new', modelId: param.slice(WITH.length) };
  return { view: 'conversation', chatId: param };
}

/** A new conversation with this model, in its own mode (a converted model: spiking at its T). */
export function chatWithHref(modelId: string): string {
  return href('chat', `${WITH}${modelId}`);
}

/** The side-by-side view, with this converted model beside its original when given. */
export function compareHref(modelId?: string): string {
  return href('chat', modelId ? `${COMPARE}:${modelId}` : COMPARE);
}

/** The model this one was first made from: its oldest ancestor in the library, or itself. */
export function originalOf(models: readonly ModelEntry[], model: ModelEntry): ModelEntry {
  let current = model;
  const seen = new Set([model.id]);
  for (;;) {
    const parent = models.find((m) => m.id === current.parentId);
    if (!parent || seen.has(parent.id)) return current;
    seen.add(parent.id);
    current = parent;
  }
}

export interface Side {
  modelId: string;
  mode: ChatMode;
}

/**
 * The comparison offered first: a converted model (the one asked for, else the first calibrated one) as
 * the spiking model on the right, beside the original it came from as the ANN on the left (the same
 * folder as the ANN when its original is not in the library); without one, the first two models.
 */
export function naturalPair(models: readonly ModelEntry[], preferred: string | null): [Side, Side] | null {
  const converted = models.find((m) => m.id === preferred && m.spiking) ?? models.find((m) => m.stage === 'calibrated') ?? models.find((m) => m.spiking);
  if (converted)
    return [
      { modelId: originalOf(models, converted).id, mode: { kind: 'ann' } },
      { modelId: converted.id, mode: defaultMode(converted) },
    ];
  const [a, b = a] = models;
  return a && b
    ? [
        { modelId: a.id, mode: defaultMode(a) },
        { modelId: b.id, mode: defaultMode(b) },
      ]
    : null;
}
