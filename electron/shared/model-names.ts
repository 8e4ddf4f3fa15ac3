// The names of the models the app makes, in one place for the core (the library names a folder it
// adds) and the wizards (the output folder they suggest): short and readable, "Demo GPT-2 · stage 1",
// never the long "Demo-GPT-2-State-of-the-Union-4.3-M-stage1-2026-12-06-0522" of earlier versions.
// The UI imports this file too, so it imports nothing.

/** The two stages a conversion goes through, as they appear in model names. */
export type StageNumber = 1 | 2;

/** The folders a whole conversion ('convert' job, `fas convert`) writes its two stages to, inside its output folder. */
export const CONVERT_STAGE_FOLDERS: Record<StageNumber, string> = { 1: 'stage1-qcfs', 2: 'stage2-spiking' };

/** The longest short name; a longer one is cut at a word. */
const SHORT_NAME_CHARS = 40;

/** "Demo GPT-2 · stage 1" */
export function stageModelName(base: string, stage: StageNumber): string {
  return `${base} · stage ${stage}`;
}

/**
 * The short, readable part of a model's name, for the names of the models made from it: without the
 * stage it went through (" · stage 1", the old "-stage1-<date>"), a copy's " (2)" or the details in
 * brackets ("Demo GPT-2 (State of the Union, 4.3 M)" -> "Demo GPT-2").
 */
export function shortModelName(name: string): string {
  let short = name
    .replace(/ · stage \d.*$/, '')
    .replace(/-stage[12](-\d{4}-\d{2}-\d{2}-\d{4})?$/, '')
    .replace(/\s*\([^()]*\)\s*$/, '')
    .trim();
  if (short === '') short = name.trim();
  if (short.length <= SHORT_NAME_CHARS) return short;
  const cut = short.slice(0, SHORT_NAME_CHARS);
  return cut.slice(0, cut.lastIndexOf(' ') > SHORT_NAME_CHARS / 2 ? cut.lastIndexOf(' ') : SHORT_NAME_CHARS).trim();
}

/** A name as a folder name every system accepts: no separators or reserved characters, no leading or trailing dots or spaces. */
export function folderSafe(name: string): string {
  const safe = name
    // eslint-disable-next-line no-control-regex -- control characters are what is being removed
    .replace(/[<>:"/\\|?*\u0000-\u001f]+/g, '-')
    .replace(/\s+/g, ' ')
    .replace(/^[\s.]+|[\s.]+$/g, '');
  return safe === '' ? 'model' : safe;
}

/**
 * The name the library gives a model folder it adds: the folder's name, except a conversion's stage
 * folder, which is named after the conversion's folder ("Demo GPT-2/stage2-spiking" -> "Demo GPT-2 · stage 2").
 */
export function libraryModelName(folderName: string, parentFolderName: string): string {
  for (const stage of [1, 2] as const) {
    if (folderName === CONVERT_STAGE_FOLDERS[stage] && parentFolderName !== '') return stageModelName(parentFolderName, stage);
  }
  return folderName;
}
