// Multiple-choice tasks scored as lm-evaluation-harness does: each choice is a continuation of the
// context; the model's pick is the choice with the highest log-likelihood ("acc"), or the highest
// log-likelihood per byte of the choice ("acc_norm", which removes the bias toward short answers).
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

export interface ChoiceItem {
  context: string;
  choices: string[];
  label: number;
}

/** For each continuation, the sum of log p(continuation | context) over its tokens. */
export type ContinuationScorer = (context: string, continuations: readonly string[]) => Promise<number[]>;

export interface MultipleChoiceResult {
  items: number;
  acc: number;
  accNorm: number;
  /** Accuracy of guessing: the mean of 1/choices. */
  chance: number;
}

/**
 * Reads a task file in JSONL. Accepted shapes (one object per line):
 *   {"context", "choices": [...], "label"}               (this app's own form)
 *   {"ctx", "endings": [...], "label"}                    (HellaSwag)
 *   {"goal", "sol1", "sol2", "label"}                     (PIQA)
 *   {"question": {"stem", "choices": [{"text","label"}]}, "answerKey"}   (ARC)
 *   {"text", "label_words": [...], "label", "prompt"?}   (classification by label words: each word is a
 *     continuation of the text followed by the optional prompt, e.g. "\nSentiment:")
 */
export async function readChoiceItems(file: string, limit = Infinity): Promise<ChoiceItem[]> {
  const items: ChoiceItem[] = [];
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    if (line.trim() === '') continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      throw new Error(`${file}, line ${lineNo}: not valid JSON.`);
    }
    items.push(normalise(raw, `${file}, line ${lineNo}`));
    if (items.length >= limit) break;
  }
  if (items.length === 0) throw new Error(`${file} has no task items.`);
  return items;
}

function normalise(raw: unknown, where: string): ChoiceItem {
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const item = ((): ChoiceItem | null => {
    if (typeof o.context === 'string' && Array.isArray(o.choices)) return { context: o.context, choices: o.choices as string[], label: Number(o.label) };
    if (typeof o.ctx === 'string' && Array.isArray(o.endings))
      return { context: o.ctx, choices: (o.endings as string[]).map((e) => ` ${e}`), label: Number(o.label) };
    if (typeof o.goal === 'string' && typeof o.sol1 === 'string' && typeof o.sol2 === 'string') {
      return { context: `Question: ${o.goal}\nAnswer:`, choices: [` ${o.sol1}`, ` ${o.sol2}`], label: Number(o.label) };
    }
    if (typeof o.text === 'string' && Array.isArray(o.label_words)) {
      const prompt = typeof o.prompt === 'string' ? o.prompt : '';
      return { context: `${o.text}${prompt}`, choices: (o.label_words as string[]).map((w) => ` ${w}`), label: Number(o.label) };
    }
    const q = o.question as { stem?: unknown; choices?: Array<{ text: string; label: string }> } | undefined;
    if (
      typeof q === 'object' &&
      q !== null &&
      typeof q.stem === 'string' &&
      Array.isArray(q.choices) &&
      q.choices.every((c) => typeof c === 'object' && c !== null)
    ) {
      return {
        context: `Question: ${q.stem}\nAnswer:`,
        choices: q.choices.map((c) => ` ${c.text}`),
        label: q.choices.findIndex((c) => c.label === o.answerKey),
      };
    }
    return null;
  })();
  if (!item) throw new Error(`${where}: expected {"context", "choices", "label"} (or the HellaSwag, PIQA, ARC or label-word form).`);
  if (item.choices.length < 2 || item.choices.some((c) => typeof c !== 'string')) throw new Error(`${where}: needs at least two text choices.`);
  if (!Number.isInteger(item.label) || item.label < 0 || item.label >= item.choices.length) {
    throw new Error(`${where}: label ${String(item.label)} is not the index of one of the ${item.choices.length} choices.`);
  }
  return item;
}

export async function scoreMultipleChoice(
  items: ChoiceItem[],
  score: ContinuationScorer,
  onProgress?: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<MultipleChoiceResult> {
  let correct = 0;
  let correctNorm = 0;
  let chance = 0;
  const bytes = new TextEncoder();
  for (const [i, item] of items.entries()) {
    if (signal?.aborted) throw new Error('Cancelled');
    const logLikelihoods = await score(item.context, item.choices);
    const perByte = logLikelihoods.map((ll, c) => ll / Math.max(1, bytes.encode(item.choices[c]!).length));
    if (argmax(logLikelihoods) === item.label) correct++;
    if (argmax(perByte) === item.label) correctNorm++;
    chance += 1 / item.choices.length;
    onProgress?.((i + 1) / items.length);
  }
  return { items: items.length, acc: correct / items.length, accNorm: correctNorm / items.length, chance: chance / items.length };
}

function argmax(values: number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}
