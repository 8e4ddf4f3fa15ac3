// The choices in the wizard of a job that makes a new model (fine-tune, calibrate, convert): the model to
// start from, the text, the settings and the output folder; what still stops the job, and the job's
// parameters. What differs between the stages comes in as their StageRules.
import type { Snippet } from 'svelte';
import type { FasApi, MemoryEstimate, ModelEntry, NumberLimits, TrainingCorpus } from '../../../electron/api/contract';
import { blockSizeFor, DEFAULT_BLOCK_SIZE } from '../../../electron/shared/model-defaults';
import { preselect, takeRetry } from '../lib/model-intent';
import { memoryBlocker } from './memory-blocker';
import { outDirProblem, type TakenNames } from './output-folder';
import { chosenText, firstTextChoice, type TextChoice } from './text-choice';

export interface StageRules<Settings> {
  kind: 'finetune' | 'calibrate' | 'convert';
  /** The library's models the stage can start from. */
  canStartFrom: (model: ModelEntry) => boolean;
  /** Why Model cannot go on when there is no such model, e.g. "Fine-tune a model first (stage 1)." */
  noModel: string;
  settingsFromDefaults: (defaults: Record<string, unknown>) => Settings;
  /** Why the settings cannot be used on a model with this context length, within the job kind's bounds ('jobs.limits'); null when they can. */
  settingsProblem: (settings: Settings, contextLength: number, limits: Record<string, NumberLimits>) => string | null;
  withPreset: (current: Settings, values: Record<string, unknown>) => Settings;
  /** The output folder to suggest, clear of the folders and names already taken. */
  defaultOutDir: (workspaceDir: string, modelName: string, taken: TakenNames) => string;
  /** Whether the job reads text with this model (calibrating a model that spikes at every layer does not); true when not given. */
  needsText?: (model: ModelEntry) => boolean;
  /**
   * How many memory estimates these settings need on this model (one per stage that runs on its own),
   * each of which can stop the job; 0 when the job computes nothing worth one; 1 when not given.
   */
  estimatesNeeded?: (settings: Settings, model: ModelEntry | undefined) => number;
  /** dataPath: absent when the job reads no text. */
  jobParams: (settings: Settings, paths: { modelDir: string; dataPath?: string; outDir: string }) => Record<string, unknown>;
}

/** The stages that start from an original model the engine can open (fine-tuning, conversion). */
export const fromOriginal: Pick<StageRules<unknown>, 'canStartFrom' | 'noModel'> = {
  canStartFrom: (m) => m.stage === 'ann' && m.summary !== null,
  noModel: 'Open a model in the Library first.',
};

interface Library<Settings> {
  models: ModelEntry[];
  corpora: TrainingCorpus[];
  /** The settings the job kind uses when given none, and the bounds of its numeric settings by name. */
  defaults: Settings;
  limits: Record<string, NumberLimits>;
  workspaceDir: string;
  /** What the new model's folder and name must not clash with. */
  taken: TakenNames;
}

export class StageForm<Settings extends object> {
  loaded: Library<Settings> | null = $state(null);
  private chosenModelId = $state('');
  /** The block size this form last set to fit a model's context, so a value the user typed is kept. */
  private fittedBlockSize: number | null = null;
  data: TextChoice = $state(firstTextChoice([]));
  settings: Settings = $state() as Settings;
  /** The output folder as the user typed it; null keeps the default. */
  outDirTyped: string | null = $state(null);
  /** The memory estimates of the job's stages, as the settings step shows them; the first is the job's own. */
  estimates: Array<MemoryEstimate | null | undefined> = $state([]);

  // The rules come with the constructor, after these fields: each reads them in a function, when first asked.
  readonly models = $derived.by(() => this.loaded?.models.filter(this.rules.canStartFrom) ?? []);
  readonly model = $derived(this.models.find((m) => m.id === this.modelId));
  readonly text = $derived(chosenText(this.data, this.loaded?.corpora ?? []));
  readonly outDir = $derived.by(
    () => this.outDirTyped ?? (this.model && this.loaded ? this.rules.defaultOutDir(this.loaded.workspaceDir, this.model.name, this.loaded.taken) : ''),
  );
  readonly textNeeded = $derived.by(() => !this.model || (this.rules.needsText?.(this.model) ?? true));
  readonly estimatesCounted = $derived.by(() => this.rules.estimatesNeeded?.(this.settings, this.model) ?? 1);
  /** The estimate that matters most among those the settings need: one that will not fit, else the largest. */
  readonly memoryNeed = $derived.by(() => largestNeed(this.estimates.slice(0, this.estimatesCounted)));
  readonly modelBlocker = $derived.by(() => (this.models.length === 0 ? this.rules.noModel : this.model ? null : 'Choose a model first.'));
  readonly settingsBlocker = $derived.by(() =>
    this.model ? this.rules.settingsProblem(this.settings, this.model.summary!.maxPositions, this.loaded!.limits) : null,
  );
  /** What stops the job once the model and text are chosen: the settings, a job that will not fit, then the output folder. */
  readonly jobBlocker = $derived(
    this.settingsBlocker ?? memoryBlocker(this.memoryNeed) ?? outDirProblem(this.outDir, this.loaded?.models ?? [], this.textNeeded ? this.text.path : ''),
  );

  constructor(private readonly rules: StageRules<Settings>) {}

  /** The job's own estimate (bound by the settings step). */
  get estimate(): MemoryEstimate | null {
    return this.estimates[0] ?? null;
  }

  set estimate(estimate: MemoryEstimate | null) {
    this.estimates[0] = estimate;
  }

  get modelId(): string {
    return this.chosenModelId;
  }

  /** Choosing a model fits the defaults that depend on it (the block size, at most its context). */
  set modelId(id: string) {
    this.chosenModelId = id;
    const context = this.model?.summary?.maxPositions;
    const settings = this.settings as { blockSize?: number } | undefined;
    if (!context || settings?.blockSize === undefined) return;
    if (settings.blockSize !== DEFAULT_BLOCK_SIZE && settings.blockSize !== this.fittedBlockSize) return;
    this.fittedBlockSize = blockSizeFor(undefined, context);
    this.settings = { ...this.settings, blockSize: this.fittedBlockSize };
  }

  /** Reads the library, the bundled texts, the job kind's defaults and bounds, the workspace and the folders its runs wrote. */
  async load(api: FasApi): Promise<void> {
    const [models, corpora, defaults, limits, info, runs] = await Promise.all([
      api.call('models.list', {}),
      api.call('data.corpora', {}),
      api.call('jobs.defaults', { kind: this.rules.kind }),
      api.call('jobs.limits', { kind: this.rules.kind }),
      api.call('app.info', {}),
      api.call('jobs.list', {}),
    ]);
    const taken = { paths: [...models.map((m) => m.path), ...runs.flatMap((r) => outDirOf(r.params))], names: models.map((m) => m.name) };
    this.loaded = { models, corpora, defaults: this.rules.settingsFromDefaults(defaults), limits, workspaceDir: info.workspaceDir, taken };
    this.settings = { ...this.loaded.defaults };
    this.data = firstTextChoice(corpora);
    this.modelId = preselect(this.models.map((m) => m.id));
    const retry = takeRetry(this.rules.kind);
    if (retry) this.retry(retry, corpora);
  }

  /** The WizardFrame's steps with the stage's content, each with what stops it: four, or three when the job reads no text. */
  steps(content: { model: Snippet; data: Snippet; settings: Snippet; advanced: Snippet; review: Snippet }) {
    return [
      { title: 'Model', content: content.model, blocker: this.modelBlocker },
      ...(this.textNeeded ? [{ title: 'Data', content: content.data, blocker: this.text.blocker }] : []),
      { title: 'Settings', content: content.settings, advanced: content.advanced, blocker: this.jobBlocker },
      { title: 'Start', content: content.review, blocker: this.jobBlocker },
    ];
  }

  /** A stopped run's model, text and settings, so trying again loses nothing. */
  private retry(params: Record<string, unknown>, corpora: TrainingCorpus[]): void {
    this.modelId = this.models.find((m) => m.path === params.modelDir)?.id ?? this.modelId;
    this.settings = this.rules.withPreset(this.settings, params);
    const corpus = corpora.find((c) => c.path === params.dataPath);
    if (corpus) this.data = { source: 'corpus', corpusId: corpus.id, ownPath: '', checked: null };
    else if (typeof params.dataPath === 'string') this.data = { ...this.data, source: 'own', ownPath: params.dataPath, checked: null };
  }

  readonly applyPreset = (values: Record<string, unknown>): void => {
    this.settings = this.rules.withPreset(this.settings, values);
  };

  readonly restoreDefaults = (): void => {
    if (this.loaded) this.settings = { ...this.loaded.defaults };
    this.outDirTyped = null;
  };

  /** The job's parameters; null while no model is chosen. */
  readonly params = (): Record<string, unknown> | null =>
    this.model
      ? this.rules.jobParams(this.settings, { modelDir: this.model.path, outDir: this.outDir.trim(), ...(this.textNeeded ? { dataPath: this.text.path } : {}) })
      : null;
}

/** A run's output folder, when its parameters name one. */
function outDirOf(params: unknown): string[] {
  const outDir = (params as { outDir?: unknown } | null)?.outDir;
  return typeof outDir === 'string' ? [outDir] : [];
}

/** Of a job's estimates, the one to act on: the first that will not fit, else the largest; null until one is known. */
function largestNeed(estimates: ReadonlyArray<MemoryEstimate | null | undefined>): MemoryEstimate | null {
  const known = estimates.filter((e): e is MemoryEstimate => !!e);
  return known.find((e) => e.verdict === 'too-big') ?? known.sort((a, b) => b.totalBytes - a.totalBytes)[0] ?? null;
}
