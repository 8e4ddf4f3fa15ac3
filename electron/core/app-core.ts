// The application core: one request dispatcher and one event stream, shared by the Electron shell,
// the local HTTP server and the tests. It never imports 'electron'.
import { EventEmitter } from 'node:events';
import type { ApiEvent, ApiMethods, ApiResponse, MethodName, ParamsOf, ResultOf } from '../api/contract.js';
import { ApiError, toErrorBody } from './api/errors.js';
import { paramSchemas } from './api/schemas.js';
import { APP_NAME, APP_VERSION } from './app-info.js';
import { ChatService } from './chat/chat-service.js';
import { exportClusterJob } from './cluster/export-job.js';
import { exportJobSettings } from './cluster/settings.js';
import { importClusterJob } from './cluster/import-job.js';
import { asRequest } from './cluster/requests.js';
import { checkTrainingData, trainingCorpora } from './data/sources.js';
import { estimateMemory } from './estimate/estimate.js';
import { SHIPPED_TASKS } from './eval/tasks.js';
import { paramDefaults } from './jobs/defaults.js';
import { paramLimits } from './api/param-limits.js';
import { JobManager, type JobKind } from './jobs/job-manager.js';
import { jobKinds } from './jobs/kinds.js';
import { addOutputToLibrary } from './jobs/lineage.js';
import { reportFile } from './jobs/report-file.js';
import { resumeInfo, resumeJob } from './jobs/resume.js';
import { ModelLibrary, type BuiltInModel } from './library/library.js';
import { PresetStore } from './presets/presets.js';
import { detectHardware } from './system/hardware.js';
import { defaultWorkspaceDir } from './workspace.js';

export interface AppCoreOptions {
  workspaceDir?: string;
  /** The job kinds it can run (tests pass their own). */
  jobKinds?: Record<string, JobKind>;
  /** Models that are always in the library (the bundled demo model). */
  builtInModels?: BuiltInModel[];
  /** How this process is named to another one that finds the workspace in use. */
  processDescription?: string;
}

type Handlers = { [M in MethodName]: (params: ParamsOf<M>) => Promise<ResultOf<M>> | ResultOf<M> };

export class AppCore {
  readonly workspaceDir: string;
  private readonly events = new EventEmitter();
  private readonly handlers: Handlers;
  readonly jobs: JobManager;
  readonly library: ModelLibrary;
  readonly presets: PresetStore;
  readonly chats: ChatService;
  private readonly ready: Promise<void>;

  constructor(options: AppCoreOptions = {}) {
    this.workspaceDir = options.workspaceDir ?? defaultWorkspaceDir();
    const kinds = options.jobKinds ?? jobKinds;
    this.jobs = new JobManager({
      workspaceDir: this.workspaceDir,
      kinds,
      emit: (e) => this.emit(e),
      afterDone: (job) => addOutputToLibrary(job, kinds[job.kind], this.library),
      processDescription: options.processDescription,
    });
    this.ready = this.jobs.init();
    this.library = new ModelLibrary(this.workspaceDir, options.builtInModels ?? []);
    this.presets = new PresetStore(this.workspaceDir);
    this.chats = new ChatService({ workspaceDir: this.workspaceDir, library: this.library, emit: (e) => this.emit(e) });
    this.handlers = {
      'app.info': () => ({ name: APP_NAME, version: APP_VERSION, workspaceDir: this.workspaceDir }),
      'system.hardware': () => detectHardware(),
      'models.list': () => this.library.list(),
      'models.open': ({ path }) => this.library.open(path),
      'models.remove': ({ id }) => this.library.remove(id),
      'models.rename': ({ id, name }) => this.library.rename(id, name),
      'jobs.start': ({ kind, params }) => this.jobs.start(kind, params),
      'jobs.list': () => this.jobs.list(),
      'jobs.get': ({ id }) => this.jobs.get(id),
      'jobs.cancel': ({ id }) => this.jobs.cancel(id),
      'jobs.pause': ({ id }) => this.jobs.pause(id),
      'jobs.metrics': ({ id }) => this.jobs.metrics(id),
      'presets.list': ({ kind }) => this.presets.list(kind),
      'presets.save': ({ kind, name, values }) => this.presets.save(kind, name, values),
      'presets.delete': ({ kind, name }) => this.presets.delete(kind, name),
      'models.estimate': (params) => estimateMemory(this.library, params),
      'jobs.defaults': ({ kind }) => paramDefaults(kinds, kind),
      'jobs.limits': ({ kind }) => paramLimits(kinds, kind),
      'jobs.resumeInfo': ({ id }) => resumeInfo(this.jobs, id),
      'jobs.resume': ({ id }) => resumeJob(this.jobs, id),
      'cluster.exportJob': (settings) => asRequest(() => exportClusterJob(exportJobSettings.parse(settings))),
      'cluster.importJob': ({ jobDir }) => asRequest(() => importClusterJob(jobDir, this.library)),
      'data.corpora': () => trainingCorpora(),
      'data.check': ({ path }) => checkTrainingData(path),
      'eval.tasks': () => SHIPPED_TASKS.map((t) => ({ ...t, kind: t.name === 'ppl' ? ('perplexity' as const) : ('multiple-choice' as const) })),
      'jobs.report': ({ id }) => reportFile(this.jobs, id),
      ...this.chats.handlers,
    };
  }

  /** Validates and runs one request from any transport; never throws. */
  async handle(method: string, params: unknown): Promise<ApiResponse<unknown>> {
    try {
      await this.ready;
      if (!Object.hasOwn(this.handlers, method)) throw new ApiError('not_found', `Unknown request "${method}".`);
      const name = method as MethodName;
      const parsed = paramSchemas[name].safeParse(params ?? {});
      if (!parsed.success) {
        const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ');
        throw new ApiError('bad_request', `Invalid parameters for "${method}": ${detail}`);
      }
      const handler = this.handlers[name] as (p: unknown) => Promise<unknown> | unknown;
      return { ok: true, result: await handler(parsed.data) };
    } catch (err) {
      return { ok: false, error: toErrorBody(err) };
    }
  }

  /** Typed call for in-process users (the CLI, tests): throws the API error as an ApiError. */
  async call<M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ApiMethods[M]['result']> {
    const res = await this.handle(method, params);
    if (!res.ok) throw new ApiError(res.error.code, res.error.message);
    return res.result as ResultOf<M>;
  }

  emit(event: ApiEvent): void {
    this.events.emit('event', event);
  }

  onEvent(listener: (event: ApiEvent) => void): () => void {
    this.events.on('event', listener);
    return () => this.events.off('event', listener);
  }
}
