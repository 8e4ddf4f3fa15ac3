// One evaluation run: a task (perplexity or multiple choice) on a model in every mode it has —
// the ANN, and for converted folders the QCFS model and the spiking model at each T — with a warning
// where the spiking model collapses at small T.
import { z } from 'zod';
import { MAX_TIMESTEPS } from '../../shared/chat-modes.js';
import { rowWords } from '../../shared/reply-words.js';
import type { EvaluationReport } from '../../api/contract.js';
import { pathParam } from '../storage/home-path.js';
import type { JobContext } from '../jobs/types.js';
import { StageEta } from '../jobs/eta.js';
import { basename } from 'node:path';
import { availableMemoryBytes, checkEvaluationMemory } from '../estimate/memory-guard.js';
import { loadOpenedModel, type LoadedModel } from '../inference/loaded-model.js';
import type { RunModeOptions } from '../../../native/index.js';
import { openModelFolder } from '../model/folder.js';
import { modelStage, readSpikingConfig } from '../spiking/spiking-config.js';
import { continuationScorer } from './continuation-scorer.js';
import { readChoiceItems, scoreMultipleChoice } from './multiple-choice.js';
import { perplexity } from './perplexity.js';
import { resolveTask } from './tasks.js';

export const evalSettings = z.object({
  modelDir: pathParam,
  task: z.string().min(1).default('ppl'),
  /** Timesteps of the spiking model to evaluate (converted models only). */
  timesteps: z.array(z.number().int().min(1).max(MAX_TIMESTEPS)).min(1).default([1, 2, 4, 8, 16, 32]),
  /** Items of a multiple-choice task, or tokens of a perplexity text. */
  limit: z.number().int().positive().optional(),
  blockSize: z.number().int().min(2).default(128),
  batchSize: z.number().int().min(1).default(4),
});
export type EvalSettings = z.infer<typeof evalSettings>;

export type EvalMode = 'ann' | 'qcfs' | 'snn';

export interface EvalRow {
  mode: EvalMode;
  timesteps: number | null;
  perplexity?: number;
  acc?: number;
  accNorm?: number;
}

/** Spike statistics of the spiking model at one T (firing rate of each layer's neurons). */
export interface FiringReport {
  timesteps: number;
  perLayer: number[];
}

/** Energy per token by fas-method.md section 5, and what was counted. */
export interface EnergyReport {
  timesteps: number;
  annMacJoules: number;
  snnMacJoules: number;
  snnAcJoules: number;
  counted: string;
  /** A model spiking at every layer (scope all): each site's mean |count| per value and AC energy per token. */
  perSite?: Array<{ site: string; meanCount: number; acJoules: number }>;
}

/** What an evaluation measured: the contract's type (a finished job adds its HTML report's path). */
export type EvalReport = EvaluationReport;

const DEFAULT_PPL_TOKENS = 16_384;

/** The (mode, T) pairs a model can be evaluated in: the ANN, and for a converted model QCFS and the SNN at each T. */
export function evaluationPlan(model: LoadedModel, timesteps: number[]): Array<{ mode: EvalMode; timesteps: number | null }> {
  const plan: Array<{ mode: EvalMode; timesteps: number | null }> = [{ mode: 'ann', timesteps: null }];
  if (!model.spiking) return plan;
  plan.push({ mode: 'qcfs', timesteps: null });
  for (const t of [...new Set(timesteps)].sort((a, b) => a - b)) plan.push({ mode: 'snn', timesteps: t });
  return plan;
}

/**
 * Progress through the plan, each model weighted by the timesteps it runs (a spiking model at T costs
 * about T times one pass), with the time left at the pace of the model being measured.
 */
function progressOf(plan: ReturnType<typeof evaluationPlan>, ctx: JobContext): (i: number, part: number) => void {
  const weights = plan.map((run) => run.timesteps ?? 1);
  const total = weights.reduce((a, b) => a + b, 0);
  const eta = new StageEta();
  let stage = -1;
  return (i, part) => {
    const done = weights.slice(0, i).reduce((a, b) => a + b, 0) + part * weights[i]!;
    if (i !== stage) {
      stage = i;
      eta.startStage(done);
    }
    ctx.progress({ fraction: done / total, message: `Evaluating: ${rowWords(plan[i]!)}`, etaSeconds: eta.secondsLeft(done, total) });
  };
}

/** The engine's options for one row of the plan. */
function runMode({ mode, timesteps }: { mode: EvalMode; timesteps: number | null }): RunModeOptions {
  return { mode, ...(timesteps === null ? {} : { timesteps }) };
}

/** Firing rates and energy of the spiking model at T on one window of the task's tokens. */
async function spikeStatistics(model: LoadedModel, ids: Int32Array, timesteps: number): Promise<{ firing: FiringReport; energy: EnergyReport }> {
  const { stats } = await model.engine.forwardWithStats(ids, 1, ids.length, { mode: 'snn', timesteps });
  return {
    firing: { timesteps, perLayer: stats.firingRates },
    energy: {
      timesteps,
      annMacJoules: stats.energyPerToken.annPicojoules * 1e-12,
      snnMacJoules: stats.macsPerToken * 4.6e-12,
      snnAcJoules: stats.acsPerToken * 0.9e-12,
      counted: stats.counted,
      ...(stats.sites.length > 0 && {
        perSite: stats.sites.map((s) => ({ site: s.site, meanCount: s.firingRate * timesteps, acJoules: s.picojoulesPerToken * 1e-12 })),
      }),
    },
  };
}

export async function runEvaluation(settings: EvalSettings, ctx: JobContext, availableBytes: () => number = availableMemoryBytes): Promise<EvalReport> {
  const task = resolveTask(settings.task);
  ctx.progress({ fraction: null, message: 'Loading the model' });
  const folder = await openModelFolder(settings.modelDir);
  // The largest batch runs the spiking model at the largest T; multiple choice scores one item (at most the context) at a time.
  const timesteps = (await readSpikingConfig(folder.dir)) ? Math.max(...settings.timesteps) : 1;
  const blockSize = task.kind === 'perplexity' ? Math.min(settings.blockSize, folder.spec.maxPositions) : folder.spec.maxPositions;
  const batchSize = task.kind === 'perplexity' ? settings.batchSize : 1;
  const label = `"${basename(folder.dir)}"${timesteps > 1 ? ` up to T = ${timesteps}` : ''}`;
  checkEvaluationMemory({ label, spec: folder.spec, parameters: folder.summary.parameterCount }, { batchSize, blockSize, timesteps }, availableBytes());
  const model = await loadOpenedModel(folder);
  try {
    const { spec } = model.folder;
    const plan = evaluationPlan(model, settings.timesteps);
    const rows: EvalRow[] = [];
    let size = 0;
    let chance: number | undefined;
    let sample = new Int32Array(0);
    const step = progressOf(plan, ctx);
    if (task.kind === 'perplexity') {
      const maxTokens = settings.limit ?? DEFAULT_PPL_TOKENS;
      // Tokenise only what will be scored: a token is rarely shorter than one character in 8.
      const text = (await task.texts()).join('\n\n').slice(0, (maxTokens + 1) * 8);
      const ids = model.tokenizer.encode(text, { addSpecialTokens: false });
      const blockSize = Math.min(settings.blockSize, spec.maxPositions);
      sample = Int32Array.from(ids.slice(0, blockSize));
      for (const [i, run] of plan.entries()) {
        const r = await perplexity(ids, (input, batch, seqLen, targets) => model.engine.targetLogProbs(input, batch, seqLen, targets, runMode(run)), {
          blockSize,
          batchSize: settings.batchSize,
          maxTokens,
          signal: ctx.signal,
          onProgress: (f) => step(i, f),
        });
        size = r.tokens;
        rows.push({ ...run, perplexity: r.perplexity });
      }
    } else {
      const items = await readChoiceItems(task.file, settings.limit);
      size = items.length;
      sample = Int32Array.from(model.tokenizer.encode(items[0]!.context, { addSpecialTokens: false }).slice(-spec.maxPositions));
      for (const [i, run] of plan.entries()) {
        const session = model.engine.createSession(runMode(run));
        const r = await scoreMultipleChoice(items, continuationScorer(model.tokenizer, session, spec.maxPositions), (f) => step(i, f), ctx.signal);
        chance = r.chance;
        rows.push({ ...run, acc: r.acc, accNorm: r.accNorm });
      }
    }
    // Spike statistics at the model's own T (spiking_config.json), the one it was converted for.
    const spikes = model.spiking && sample.length > 0 ? await spikeStatistics(model, sample, model.spiking.T) : null;
    return {
      model: {
        dir: model.folder.dir,
        architecture: model.folder.summary.architecture,
        parameters: model.folder.summary.parameterCount,
        stage: modelStage(model.spiking),
      },
      task: { name: task.name, kind: task.kind, size, ...(chance === undefined ? {} : { chance }) },
      rows,
      ...(spikes ?? {}),
      warnings: collapseWarnings(rows),
      createdAt: new Date().toISOString(),
    };
  } finally {
    model.engine.dispose();
  }
}

/**
 * Too few timesteps is the most common cause of accuracy collapse in converted models: flag every
 * T where the spiking model is far from the QCFS model it was converted from.
 */
export function collapseWarnings(rows: EvalRow[]): string[] {
  const teacher = rows.find((r) => r.mode === 'qcfs');
  if (!teacher) return [];
  const warnings: string[] = [];
  for (const r of rows.filter((row) => row.mode === 'snn')) {
    if (teacher.perplexity !== undefined && r.perplexity !== undefined && r.perplexity > 1.5 * teacher.perplexity) {
      warnings.push(
        `At T = ${r.timesteps} the spiking model's perplexity (${r.perplexity.toFixed(1)}) is ${(r.perplexity / teacher.perplexity).toFixed(1)}x the QCFS model's: too few timesteps for this model.`,
      );
    }
    if (teacher.acc !== undefined && r.acc !== undefined && teacher.acc - r.acc > 0.1) {
      warnings.push(
        `At T = ${r.timesteps} the spiking model's accuracy (${(100 * r.acc).toFixed(1)}%) is ${(100 * (teacher.acc - r.acc)).toFixed(1)} points below the QCFS model's: too few timesteps for this model.`,
      );
    }
  }
  return warnings;
}
