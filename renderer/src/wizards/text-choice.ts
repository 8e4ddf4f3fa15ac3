// The text a stage trains or calibrates on: a corpus bundled with the app, or the user's own file or
// folder, checked by the core ('data.check') as it will be read.
import type { DataCheck, TrainingCorpus } from '../../../electron/api/contract';

export interface TextChoice {
  source: 'corpus' | 'own';
  corpusId: string;
  ownPath: string;
  /** The check of `ownPath` once it passed; typing a new path clears it. */
  checked: DataCheck | null;
}

/** The files a stage that reads plain text can read, in words. */
export const PLAIN_TEXT_FILES = 'A .txt file, a .jsonl file with one {"text": …} per line, or a folder of .txt and .md files.';

/** The first bundled text, or the user's own when none is bundled. */
export function firstTextChoice(corpora: TrainingCorpus[]): TextChoice {
  return { source: corpora.length > 0 ? 'corpus' : 'own', corpusId: corpora[0]?.id ?? '', ownPath: '', checked: null };
}

/** The chosen text: its path for the job, its name for people, and why there is none yet (null once there is). */
export function chosenText(choice: TextChoice, corpora: TrainingCorpus[]): { path: string; name: string; blocker: string | null } {
  if (choice.source === 'corpus') {
    const corpus = corpora.find((c) => c.id === choice.corpusId);
    return { path: corpus?.path ?? '', name: corpus?.title ?? '', blocker: corpus ? null : 'Choose a bundled text first.' };
  }
  const path = choice.checked?.path ?? '';
  if (choice.ownPath.trim() === '') return { path, name: path, blocker: 'Type the path of your text first.' };
  return { path, name: path, blocker: choice.checked ? null : 'Give a file or folder that passes the check.' };
}
