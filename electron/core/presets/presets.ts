// Saved wizard settings ("presets"), one JSON file per kind of form in the workspace:
// presets/<kind>.json. Writes are atomic and, per kind, one at a time, so two quick saves never
// lose one another and a crash never leaves half a file.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Preset } from '../../api/contract.js';
import { z } from 'zod';
import { ApiError } from '../api/errors.js';
import { readJsonIfExists, writeJsonAtomic } from '../storage/json-file.js';

const KIND_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;
const MAX_NAME_LENGTH = 60;
const MAX_VALUES_BYTES = 64 * 1024;
const MAX_PRESETS_PER_KIND = 200;

const presetSchema = z.object({ name: z.string(), values: z.record(z.string(), z.unknown()), savedAt: z.string() });

interface PresetsFile {
  version: 1;
  presets: Preset[];
}

export class PresetStore {
  private readonly dir: string;
  /** Per kind, the last pending change: changes are chained so none reads a file another is rewriting. */
  private readonly pending = new Map<string, Promise<unknown>>();

  constructor(workspaceDir: string) {
    this.dir = join(workspaceDir, 'presets');
  }

  /** The presets of one kind, sorted by name. */
  async list(kind: string): Promise<Preset[]> {
    checkKind(kind);
    await this.pending.get(kind)?.catch(() => undefined);
    return this.read(kind);
  }

  /** Saves `values` under `name`, replacing a preset of the same name (case ignored). */
  async save(kind: string, name: string, values: Record<string, unknown>): Promise<Preset[]> {
    checkKind(kind);
    const clean = checkName(name);
    checkValues(values);
    return this.change(kind, (presets) => {
      const others = presets.filter((p) => !sameName(p.name, clean));
      if (others.length >= MAX_PRESETS_PER_KIND) {
        throw new ApiError('bad_request', `There are already ${MAX_PRESETS_PER_KIND} presets here; delete some before saving another.`);
      }
      return [...others, { name: clean, values, savedAt: new Date().toISOString() }];
    });
  }

  async delete(kind: string, name: string): Promise<Preset[]> {
    checkKind(kind);
    return this.change(kind, (presets) => {
      const kept = presets.filter((p) => !sameName(p.name, name.trim()));
      if (kept.length === presets.length) throw new ApiError('not_found', `There is no preset called "${name.trim()}".`);
      return kept;
    });
  }

  private change(kind: string, edit: (presets: Preset[]) => Preset[]): Promise<Preset[]> {
    const previous = this.pending.get(kind) ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(async () => {
        const presets = sortByName(edit(await this.read(kind)));
        await mkdir(this.dir, { recursive: true });
        await writeJsonAtomic(this.file(kind), { version: 1, presets } satisfies PresetsFile);
        return presets;
      });
    this.pending.set(kind, next);
    return next;
  }

  private async read(kind: string): Promise<Preset[]> {
    const file = this.file(kind);
    let saved: PresetsFile | null;
    try {
      saved = await readJsonIfExists<PresetsFile>(file);
    } catch (err) {
      throw new ApiError('failed', `The saved presets in ${file} could not be read (${(err as Error).message}). The file was left as it is.`);
    }
    if (saved === null) return [];
    if (saved?.version !== 1 || !Array.isArray(saved.presets)) {
      throw new ApiError('failed', `${file} was written by a different version of the app, so its presets cannot be read. The file was left as it is.`);
    }
    const bad = saved.presets.findIndex((p) => !presetSchema.safeParse(p).success);
    if (bad !== -1) {
      throw new ApiError(
        'failed',
        `Preset ${bad + 1} in ${file} is damaged (it needs a name, its values and when it was saved), so the presets cannot be read. The file was left as it is.`,
      );
    }
    return sortByName(saved.presets);
  }

  private file(kind: string): string {
    return join(this.dir, `${kind}.json`);
  }
}

function checkKind(kind: string): void {
  if (!KIND_PATTERN.test(kind)) throw new ApiError('bad_request', `"${kind}" is not a kind of preset this app knows.`);
}

/** The trimmed name, or an error saying in plain words what is wrong with it. */
function checkName(name: string): string {
  const clean = name.trim();
  if (clean === '') throw new ApiError('bad_request', 'Give the preset a name.');
  if (clean.length > MAX_NAME_LENGTH) throw new ApiError('bad_request', `A preset name can be at most ${MAX_NAME_LENGTH} characters long.`);
  // eslint-disable-next-line no-control-regex -- control characters are what it looks for
  if (/[\u0000-\u001f\u007f]/.test(clean)) throw new ApiError('bad_request', 'A preset name cannot contain line breaks or other control characters.');
  return clean;
}

function checkValues(values: Record<string, unknown>): void {
  if (Buffer.byteLength(JSON.stringify(values)) > MAX_VALUES_BYTES) {
    throw new ApiError('bad_request', `These settings are too large to save as a preset (more than ${MAX_VALUES_BYTES / 1024} KiB).`);
  }
}

function sameName(a: string, b: string): boolean {
  return a.localeCompare(b, undefined, { sensitivity: 'accent' }) === 0;
}

function sortByName(presets: Preset[]): Preset[] {
  return [...presets].sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }));
}
