// Builds small evaluation tasks from public-domain text, deterministically from a seed:
//  - last-word cloze (LAMBADA-like): a passage without its last word; the true word among distractors;
//  - next sentence: a sentence; the one that follows it among sentences from elsewhere in the book.
import { mulberry32 } from '../random.js';
import type { ChoiceItem } from './multiple-choice.js';

const SENTENCE = /[^.!?]+[.!?]+["')\]]*/g;

export function sentencesOf(text: string): string[] {
  return (text.replace(/\s+/g, ' ').match(SENTENCE) ?? []).map((s) => s.trim()).filter((s) => s.split(' ').length >= 5 && s.length <= 300);
}

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)]!;
}

/** Shuffles the right answer in among the distractors; returns the item. */
function makeItem(context: string, answer: string, distractors: string[], random: () => number): ChoiceItem {
  const label = Math.floor(random() * (distractors.length + 1));
  const choices = [...distractors];
  choices.splice(label, 0, answer);
  return { context, choices, label };
}

export function nextSentenceTask(texts: string[], count: number, seed: number, choices = 4): ChoiceItem[] {
  const random = mulberry32(seed);
  const documents = texts.map(sentencesOf).filter((s) => s.length >= 3);
  const all = documents.flat();
  const items: ChoiceItem[] = [];
  while (items.length < count) {
    const doc = pick(documents, random);
    const i = Math.floor(random() * (doc.length - 1));
    const answer = doc[i + 1]!;
    const distractors = new Set<string>();
    while (distractors.size < choices - 1) {
      const other = pick(all, random);
      if (other !== answer && other !== doc[i]) distractors.add(other);
    }
    items.push(
      makeItem(
        doc[i]!,
        ` ${answer}`,
        [...distractors].map((d) => ` ${d}`),
        random,
      ),
    );
  }
  return items;
}

export function lastWordTask(texts: string[], count: number, seed: number, choices = 4): ChoiceItem[] {
  const random = mulberry32(seed);
  const passages = texts
    .flatMap((t) => t.split(/\n\s*\n/))
    .map((p) => p.replace(/\s+/g, ' ').trim())
    .filter((p) => /^.{200,800}[A-Za-z]\.$/.test(p));
  const words = [...new Set(passages.flatMap((p) => p.match(/\b[a-z]{4,}\b/g) ?? []))];
  const items: ChoiceItem[] = [];
  const seen = new Set<string>();
  while (items.length < count && seen.size < passages.length) {
    const passage = pick(passages, random);
    if (seen.has(passage)) continue;
    seen.add(passage);
    const match = /^(.*) ([A-Za-z]+)\.$/.exec(passage);
    if (!match || match[2]!.length < 4) continue;
    const [, context, answer] = match as unknown as [string, string, string];
    const distractors = new Set<string>();
    while (distractors.size < choices - 1) {
      const w = pick(words, random);
      if (w.toLowerCase() !== answer.toLowerCase()) distractors.add(w);
    }
    items.push(
      makeItem(
        context,
        ` ${answer}`,
        [...distractors].map((d) => ` ${d}`),
        random,
      ),
    );
  }
  return items;
}
