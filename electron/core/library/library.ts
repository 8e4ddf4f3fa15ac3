// The model library: the folders a user opened (and the bundled demo model), saved in the
// workspace as library.json. Each listing re-validates the folders, so a moved or deleted folder
// shows up with the reason instead of failing later in a job; a folder whose files kept their size,
// time and inode is not read again (its description is cached by that fingerprint).
import { createHash } from 'node:crypto';
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { ModelEntry } from '../../api/contract.js';
import { ApiError } from '../api/errors.js';
import { ModelFolderError, openModelFolder } from '../model/index.js';
import { modelStage, readSpikingConfig, spikingInfo } from '../spiking/spiking-config.js';
import { expandHome } from '../storage/home-path.js';
import { readJsonIfExists, writeJsonAtomic } from '../storage/json-file.js';
import { libraryModelName } from '../../shared/model-names.js';

/** What library.json keeps per model; everything else is read from the folder. */
interface SavedEntry {
  id: string;
  name: string;
  path: string;
  parentId: string | null;
  builtIn: boolean;
  addedAt: string;
}

export interface BuiltInModel {
  name: string;
  path: string;
}

type FolderDescription = Pick<ModelEntry, 'stage' | 'spiking' | 'summary' | 'problem' | 'warnings'>;

/** The longest name a model can be given. */
export const MAX_MODEL_NAME_CHARS = 120;

export class ModelLibrary {
  private readonly file: string;
  /** Folder path -> its files' fingerprint and what was read from them. */
  private readonly described = new Map<string, { fingerprint: string; description: FolderDescription }>();

  constructor(
    workspaceDir: string,
    private readonly builtIns: BuiltInModel[] = [],
  ) {
    this.file = join(workspaceDir, 'library.json');
  }

  async list(): Promise<ModelEntry[]> {
    return Promise.all((await this.saved()).map((entry) => this.describe(entry)));
  }

  /** Validates the folder (throwing an ApiError whose message says why it is rejected) and adds it. */
  async open(path: string, options: { name?: string; parentId?: string | null } = {}): Promise<ModelEntry> {
    const dir = resolve(expandHome(path));
    let entry: ModelEntry;
    const saved: SavedEntry = {
      id: await modelId(dir),
      name: options.name ?? libraryModelName(basename(dir), basename(dirname(dir))),
      path: dir,
      parentId: options.parentId ?? null,
      builtIn: false,
      addedAt: new Date().toISOString(),
    };
    try {
      entry = await this.describe(saved, true);
    } catch (err) {
      if (err instanceof ModelFolderError) throw new ApiError('bad_request', err.message);
      throw err;
    }
    const all = await this.saved();
    const existing = all.find((e) => e.id === saved.id);
    if (existing) return this.describe(existing);
    await this.save([...all.filter((e) => !e.builtIn), saved]);
    return entry;
  }

  async remove(id: string): Promise<ModelEntry[]> {
    const all = await this.saved();
    const entry = all.find((e) => e.id === id);
    if (!entry) throw new ApiError('not_found', `No model with id "${id}" in the library.`);
    if (entry.builtIn) throw new ApiError('bad_request', 'The demo model is part of the app and cannot be removed.');
    await this.save(all.filter((e) => e.id !== id && !e.builtIn));
    return this.list();
  }

  /** Gives a model a new name; its folder stays as it is. */
  async rename(id: string, name: string): Promise<ModelEntry[]> {
    const clean = name.replace(/\s+/g, ' ').trim();
    if (clean === '') throw new ApiError('bad_request', 'Give the model a name.');
    const all = await this.saved();
    const entry = all.find((e) => e.id === id);
    if (!entry) throw new ApiError('not_found', `No model with id "${id}" in the library.`);
    if (entry.builtIn) throw new ApiError('bad_request', 'The demo model is part of the app and keeps its name.');
    await this.save(all.filter((e) => !e.builtIn).map((e) => (e.id === id ? { ...e, name: clean } : e)));
    return this.list();
  }

  async get(id: string): Promise<ModelEntry> {
    const entry = (await this.saved()).find((e) => e.id === id);
    if (!entry) throw new ApiError('not_found', `No model with id "${id}" in the library.`);
    return this.describe(entry);
  }

  /** Reads the folder (or reuses what was read while its files are unchanged); with `strict` a problem is thrown. */
  private async describe(saved: SavedEntry, strict = false): Promise<ModelEntry> {
    const fingerprint = await folderFingerprint(saved.path);
    const cached = this.described.get(saved.path);
    if (cached && cached.fingerprint === fingerprint && !(strict && cached.description.problem)) return { ...saved, ...cached.description };
    const description = await readDescription(saved.path, strict);
    this.described.set(saved.path, { fingerprint, description });
    return { ...saved, ...description };
  }

  /** Built-in models first, then the user's, as saved. */
  private async saved(): Promise<SavedEntry[]> {
    const builtIn = await Promise.all(
      this.builtIns.map(async (m): Promise<SavedEntry> => ({
        id: await modelId(m.path),
        name: m.name,
        path: resolve(m.path),
        parentId: null,
        builtIn: true,
        addedAt: '1970-01-01T00:00:00.000Z',
      })),
    );
    const user = (await readJsonIfExists<SavedEntry[]>(this.file)) ?? [];
    return [...builtIn, ...user];
  }

  private save(entries: SavedEntry[]): Promise<void> {
    return writeJsonAtomic(this.file, entries);
  }
}

/** A stable id from the folder's real path, so the same folder opened twice is one entry. */
async function modelId(dir: string): Promise<string> {
  const real = await realpath(dir).catch(() => resolve(dir));
  return createHash('sha256').update(real).digest('hex').slice(0, 12);
}

/** Reads the folder; with `strict` a problem is thrown, else reported in the description. */
async function readDescription(dir: string, strict: boolean): Promise<FolderDescription> {
  const base = { stage: 'ann' as const, spiking: null, summary: null, warnings: [] };
  try {
    const folder = await openModelFolder(dir);
    const spiking = await readSpikingConfig(dir);
    return { stage: modelStage(spiking), spiking: spikingInfo(spiking), summary: folder.summary, problem: null, warnings: folder.warnings };
  } catch (err) {
    if (strict || !(err instanceof ModelFolderError)) throw err;
    return { ...base, problem: err.message };
  }
}

/** Name, size, modification time and inode of every file in the folder: any change to what describe reads changes it. */
async function folderFingerprint(dir: string): Promise<string> {
  const names = await readdir(dir).catch(() => null);
  if (!names) return 'missing';
  const parts = await Promise.all(
    names.sort().map(async (name) => {
      const info = await stat(join(dir, name)).catch(() => null);
      return info ? `${name}:${info.size}:${info.mtimeMs}:${info.ino}` : `${name}:gone`;
    }),
  );
  return parts.join('|');
}
