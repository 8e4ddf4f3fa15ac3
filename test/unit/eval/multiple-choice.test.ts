import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readChoiceItems, scoreMultipleChoice } from '../../../electron/core/eval/multiple-choice.js';
import { lastWordTask, nextSentenceTask, sentencesOf } from '../../../electron/core/eval/task-builder.js';

const file = (lines: unknown[]) => {
  const path = join(mkdtempSync(join(tmpdir(), 'fas-mc-')), 'task.jsonl');
  writeFileSync(path, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n'));
  return path;
};

describe('multiple-choice tasks', () => {
  it('reads the app form and the HellaSwag, PIQA and ARC forms', async () => {
    const items = await readChoiceItems(
      file([
        { context: 'The sky is', choices: [' blue', ' loud'], label: 0 },
        { ctx: 'He opened the door', endings: ['and left.', 'and sang.'], label: 1 },
        { goal: 'Boil water', sol1: 'Use a pot.', sol2: 'Use a sieve.', label: 0 },
        {
          question: {
            stem: 'What is 2+2?',
            choices: [
              { text: '3', label: 'A' },
              { text: '4', label: 'B' },
            ],
          },
          answerKey: 'B',
        },
        { text: 'What a lovely day.', prompt: '\nSentiment:', label_words: ['negative', 'positive'], label: 1 },
      ]),
    );
    expect(items.map((i) => i.label)).toEqual([0, 1, 0, 1, 1]);
    expect(items[4]).toEqual({ context: 'What a lovely day.\nSentiment:', choices: [' negative', ' positive'], label: 1 });
    expect(items[1]!.choices).toEqual([' and left.', ' and sang.']);
    expect(items[2]!.context).toBe('Question: Boil water\nAnswer:');
    expect(items[3]!.choices).toEqual([' 3', ' 4']);
  });

  it('explains bad lines', async () => {
    await expect(readChoiceItems(file(['{"context": "x", "choices": [" a", " b"], "label": 2}']))).rejects.toThrow(/line 1: label 2 is not the index/);
    await expect(readChoiceItems(file(['{"text": "x"}']))).rejects.toThrow(/line 1: expected \{"context", "choices", "label"\}/);
    await expect(readChoiceItems(file(['oops']))).rejects.toThrow(/line 1: not valid JSON/);
    await expect(readChoiceItems(file(['']))).rejects.toThrow(/no task items/);
  });

  it('scores acc and acc_norm with known answers', async () => {
    const items = [
      { context: 'a', choices: [' right', ' wrong'], label: 0 },
      { context: 'b', choices: [' x', ' a much longer answer'], label: 1 },
    ];
    // Log-likelihoods: item 1 prefers the right answer; item 2's long answer has a lower total but a
    // higher per-byte score, so only acc_norm gets it right.
    const ll: Record<string, number> = { ' right': -1, ' wrong': -3, ' x': -2, ' a much longer answer': -10 };
    const r = await scoreMultipleChoice(items, async (_c, choices) => choices.map((choice) => ll[choice]!));
    expect(r).toEqual({ items: 2, acc: 0.5, accNorm: 1, chance: 0.5 });
  });

  it('builds next-sentence and last-word tasks deterministically', () => {
    const book =
      'Call me Ishmael now please. Some years ago I went to sea for good. It was a way of driving off the spleen. Whenever I find myself grim about the mouth I go. Then I account it high time to get to sea as soon as I can.';
    expect(sentencesOf(book)).toHaveLength(5);
    const a = nextSentenceTask([book, book.toUpperCase()], 5, 1);
    expect(nextSentenceTask([book, book.toUpperCase()], 5, 1)).toEqual(a);
    for (const item of a) {
      expect(item.choices).toHaveLength(4);
      expect(new Set(item.choices).size).toBe(4);
    }
    const passage = `${'The whale rose from the dark water and the crew stood silent on the deck of the ship. '.repeat(4)}They watched the ocean.`;
    const cloze = lastWordTask([passage], 1, 2);
    expect(cloze[0]!.choices[cloze[0]!.label]).toBe(' ocean');
    expect(cloze[0]!.context.endsWith('They watched the')).toBe(true);
  });
});
