// The library's models as a run page needs them: read on demand (again when a run adds one), with
// what went wrong in words for an ErrorBox, and found by the folder a run names.
import type { FasApi, JobRecord, ModelEntry } from '../../../electron/api/contract';

export class LibraryModels {
  list = $state<ModelEntry[] | null>(null);
  problem = $state<string | null>(null);

  constructor(private readonly api: FasApi) {}

  readonly load = async (): Promise<void> => {
    this.problem = null;
    try {
      this.list = await this.api.call('models.list', {});
    } catch (err) {
      this.problem = err instanceof Error ? err.message : String(err);
    }
  };

  /**
   * Reads the list for a run's page, and again when the run ends, as a finished run adds the models it
   * made (once its record has the result, which arrives just after its 'done' event). Call it while the
   * page's component starts.
   */
  follow(job: () => JobRecord): void {
    $effect(() => {
      const { id, state, result } = job();
      void id;
      if (state === 'done' && !result) return;
      void this.load();
    });
  }

  /** The model in this folder; undefined until read, or when it is not in the library. */
  at(path: string): ModelEntry | undefined {
    return modelAt(this.list, path);
  }
}

/** The model in this folder (a trailing separator aside), if the list has it. */
export function modelAt(models: readonly ModelEntry[] | null, path: string): ModelEntry | undefined {
  const folder = path.replace(/[\\/]+$/, '');
  return models?.find((m) => m.path === folder);
}
