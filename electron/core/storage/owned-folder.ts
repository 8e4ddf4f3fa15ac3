// The one rule for every folder the app writes: it only ever replaces or deletes a folder that it
// created itself (each such folder carries a mark file, checked before anything is replaced), never a
// folder that holds, or lies inside, a job's input model or data, and never anything else. Interrupted
// swaps (hidden `.name.old-*` / `.name.tmp-*` entries) are recovered or cleaned at the next start.
import { mkdir, readdir, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { fsyncDir, siblingPath } from './atomic.js';
import { describeHolder, OUTPUT_LOCK_FILE, ProcessLock } from './process-lock.js';

/** The mark file: its presence says "this app created this folder and may replace it". */
export const OWNER_MARK = '.fas-spiking-llm-output';

const MARK_TEXT = 'This folder was written by FAS Spiking LLM, which may replace it when asked to overwrite it.\n';

/** Hidden temporary and moved-aside names made by storage/atomic.ts siblingPath: `.name.tmp-1a2b3c4d`. */
const SWAP_ENTRY = /^\.(.+)\.(tmp|old)-[0-9a-f]{8}$/;

export class OutputFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputFolderError';
  }
}

/** Writes the mark into a folder the app has just created (or found empty). */
export async function markOwned(dir: string): Promise<void> {
  await writeFile(join(dir, OWNER_MARK), MARK_TEXT);
  await fsyncDir(dir);
}

export async function isOwned(dir: string): Promise<boolean> {
  return (await stat(join(dir, OWNER_MARK)).catch(() => null))?.isFile() ?? false;
}

/** The folder's entries other than the mark and interrupted swaps (those are the app's own scaffolding). */
async function userEntries(dir: string): Promise<string[] | null> {
  const entries = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  return entries && entries.filter((name) => name !== OWNER_MARK && name !== OUTPUT_LOCK_FILE && !SWAP_ENTRY.test(name));
}

/**
 * Throws unless the app may replace `dir`: it does not exist, is empty, or carries the mark. Every
 * replacement of a whole folder (storage's model-folder writer) calls this last, whatever asked for it.
 */
export async function assertReplaceable(dir: string): Promise<void> {
  const entries = await userEntries(dir);
  if (entries === null || entries.length === 0 || (await isOwned(dir))) return;
  throw new OutputFolderError(notOursMessage(dir, true));
}

/** Why a non-empty folder the app did not create cannot be the output folder. */
function notOursMessage(dir: string, overwrite: boolean): string {
  if (!overwrite) return `${dir} already exists, is not empty and was not created by this app. Choose a new or empty output folder.`;
  return (
    `${dir} was not created by this app, so it is never replaced or deleted, even when overwriting is allowed: ` +
    'choose a new or empty output folder (the app creates it), or pick the folder of an earlier run of this app.'
  );
}

/** The real path (symbolic links followed) of `path`, or of its nearest existing parent plus the rest. */
async function canonical(path: string): Promise<string> {
  const absolute = resolve(path);
  try {
    return await realpath(absolute);
  } catch {
    const parent = dirname(absolute);
    return parent === absolute ? absolute : join(await canonical(parent), basename(absolute));
  }
}

function sameOrInside(inner: string, outer: string): boolean {
  const fold = (p: string) => (process.platform === 'win32' || process.platform === 'darwin' ? p.toLowerCase() : p);
  const [a, b] = [fold(inner), fold(outer)];
  return a === b || a.startsWith(b.endsWith(sep) ? b : b + sep);
}

/** Refuses an output folder that is, holds or lies inside one of the job's inputs. */
export async function checkOutputAgainstInputs(outDir: string, inputs: string[]): Promise<void> {
  const out = await canonical(outDir);
  for (const input of inputs) {
    const inp = await canonical(input);
    if (sameOrInside(inp, out)) {
      throw new OutputFolderError(
        `The output folder ${outDir} ${inp === out ? 'is' : 'holds'} the job's input ${input}: a finished run replaces its whole ` +
          'output folder, so the app will not write there. Choose a new folder outside the model and the data.',
      );
    }
    if (sameOrInside(out, inp)) {
      throw new OutputFolderError(`The output folder ${outDir} is inside the job's input ${input}, which the app never changes. Choose a folder outside it.`);
    }
  }
}

export interface ClaimOptions {
  /** The job's input model folders and data paths. */
  inputs: string[];
  /** The user allows replacing an earlier output of this app. */
  overwrite: boolean;
  /**
   * The job continues from a checkpoint in `outDir`: the path of its state file, which (in a folder
   * written before folders were marked) is the proof that this app wrote the folder. False otherwise.
   */
  resume: string | false;
  log?(message: string): void;
}

/**
 * Prepares a job's output folder under the rule: refuses inputs, locks the folder for this job (two
 * jobs never write one folder), recovers interrupted swaps, refuses a non-empty folder unless resuming
 * or overwriting one the app wrote, then creates and marks it. Returns the release of the lock, for
 * when the job ends (the process's end releases it too).
 */
export async function claimOutputFolder(outDir: string, options: ClaimOptions): Promise<() => void> {
  await checkOutputAgainstInputs(outDir, options.inputs);
  const found = await userEntries(outDir);
  if (found === null) await mkdirMarked(outDir);
  // Refused before anything (even a lock file) is written into a folder that is not the app's.
  else if (found.length > 0 && !options.resume && !(await isOwned(outDir))) throw new OutputFolderError(notOursMessage(outDir, options.overwrite));
  const lock = new ProcessLock(join(outDir, OUTPUT_LOCK_FILE));
  const holder = lock.tryAcquire();
  if (holder) {
    throw new OutputFolderError(`Another job is writing to ${outDir}: ${describeHolder(holder)}. Wait for it to finish, or choose another output folder.`);
  }
  try {
    await claimLocked(outDir, options);
  } catch (err) {
    lock.release();
    throw err;
  }
  return () => lock.release();
}

async function claimLocked(outDir: string, options: ClaimOptions): Promise<void> {
  for (const note of await recoverInterruptedSwaps(outDir)) options.log?.(note);
  const entries = (await userEntries(outDir)) ?? [];
  const owned = await isOwned(outDir);
  if (entries.length > 0 && !options.resume) {
    if (!owned) throw new OutputFolderError(notOursMessage(outDir, options.overwrite));
    if (!options.overwrite) {
      throw new OutputFolderError(
        `${outDir} already holds an earlier run's output. Choose a new output folder, resume the run that wrote it, or allow overwriting it.`,
      );
    }
  }
  if (!owned && options.resume && entries.length > 0 && !(await stat(options.resume).catch(() => null))) {
    throw new OutputFolderError(`There is no checkpoint to resume in ${outDir}. Start without resuming, in a new or empty folder.`);
  }
  // Empty, or holding a checkpoint this app wrote before folders were marked: it is the app's now.
  if (!owned) await markOwned(outDir);
  if (!owned && options.resume && entries.length > 0) await markOwned(dirname(options.resume));
}

/**
 * Prepares a folder that a job only writes new folders into (each claimed on its own), never replaces:
 * refuses inputs, creates and marks it when it does not exist yet.
 */
export async function prepareParentFolder(dir: string, inputs: string[]): Promise<void> {
  await checkOutputAgainstInputs(dir, inputs);
  if ((await userEntries(dir)) === null) await mkdirMarked(dir);
}

/**
 * Writes (or replaces) the folder `dir` all or nothing: `fill` writes into a marked temporary folder
 * beside it, which is then renamed into place; a folder it replaces must pass assertReplaceable and is
 * moved aside first and deleted last. On failure the previous folder, if any, is left as it was.
 */
export async function writeFolderAtomically(dir: string, fill: (temp: string) => Promise<void>): Promise<void> {
  const target = resolve(dir);
  const existing = await stat(target).catch(() => null);
  if (existing && !existing.isDirectory()) throw new OutputFolderError(`Cannot write a folder at ${target}: a file with that name exists.`);
  // Before writing anything: only an empty folder or one this app wrote is ever moved aside and deleted.
  if (existing) await assertReplaceable(target);
  await mkdir(dirname(target), { recursive: true });
  const temp = siblingPath(target, 'tmp');
  await mkdir(temp);
  try {
    await markOwned(temp);
    await fill(temp);
    await fsyncDir(temp);
    await swapIn(temp, target, existing !== null);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}

/** Moves the finished folder into place; an old folder is moved aside first and deleted last. */
async function swapIn(temp: string, target: string, replacing: boolean): Promise<void> {
  if (!replacing) {
    await rename(temp, target);
  } else {
    const old = siblingPath(target, 'old');
    await rename(target, old);
    try {
      await rename(temp, target);
    } catch (error) {
      await rename(old, target);
      throw error;
    }
    await rm(old, { recursive: true, force: true });
  }
  await fsyncDir(dirname(target));
}

async function mkdirMarked(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await markOwned(dir);
}

/**
 * Finishes or undoes swaps that a crash interrupted, for `dir` and the folders inside it: a folder moved
 * aside whose replacement never arrived is moved back; leftover temporaries and moved-aside copies of
 * the app's own folders are deleted. Returns what was done, in words, for the job's log.
 */
export async function recoverInterruptedSwaps(dir: string): Promise<string[]> {
  const notes: string[] = [];
  const target = resolve(dir);
  await recoverIn(dirname(target), (name) => name === basename(target), notes);
  if (await isOwned(target)) {
    await recoverIn(target, () => true, notes);
    for (const entry of await readdir(target, { withFileTypes: true })) {
      const child = join(target, entry.name);
      if (entry.isDirectory() && !SWAP_ENTRY.test(entry.name) && (await isOwned(child))) await recoverIn(child, () => true, notes);
    }
  }
  return notes;
}

/** Handles the swap entries in `parent` whose target name passes `forTarget`. */
async function recoverIn(parent: string, forTarget: (name: string) => boolean, notes: string[]): Promise<void> {
  const entries = await readdir(parent, { withFileTypes: true }).catch(() => []);
  const names = new Set(entries.map((e) => e.name));
  for (const entry of entries) {
    const match = SWAP_ENTRY.exec(entry.name);
    if (!match || !forTarget(match[1]!)) continue;
    const path = join(parent, entry.name);
    const original = join(parent, match[1]!);
    // Only what the app made: a temporary file, or a folder that carries the mark.
    const ours = entry.isFile() || (entry.isDirectory() && (await isOwned(path)));
    if (!ours) continue;
    if (match[2] === 'old' && !names.has(match[1]!)) {
      await rename(path, original);
      names.add(match[1]!);
      notes.push(`An interrupted save had moved ${original} aside; it was put back.`);
    } else {
      await rm(path, { recursive: true, force: true });
      notes.push(`Removed ${path}, left behind by an interrupted save.`);
    }
  }
}
