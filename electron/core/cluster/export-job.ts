// `fas export-job`: a self-contained folder to run FAS stage 1 on a GPU cluster with torchrun. The app
// does here everything that decides what is learnt, so the cluster run and the native trainer see the
// same thing: the tokenisation, packing and seeded split (electron/core/data), and the order of the
// training blocks step by step (TrainBatches, the native trainer's data cursor). The script
// (job/fas_stage1.py) gets them as raw arrays, with the model's tensor mapping and the settings.
import { chmod, copyFile, link, mkdir, readdir, rename, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { loadNative, type NativeModelSpec } from '../../../native/index.js';
import { APP_NAME, APP_VERSION } from '../app-info.js';
import { loadJobDataset, TrainBatches, validationBlocks, type PackedSplit } from '../data/index.js';
import { modelShape } from '../estimate/model-shape.js';
import { readCheckpoint } from '../model/checkpoint.js';
import { openModelFolder, type OpenedModelFolder } from '../model/folder.js';
import { familyLayout, HEAD } from '../model/mapping.js';
import { writeSafetensors } from '../model/safetensors.js';
import { loadTokenizer } from '../model/tokenizer.js';
import { spikingConfigJson, stage1SpikingConfig } from '../spiking/spiking-config.js';
import { spikingTensors } from '../spiking/spiking-weights.js';
import { startingSiteThresholds } from '../training/site-thresholds.js';
import { blockSizeFor } from '../../shared/model-defaults.js';
import { siblingPath } from '../storage/atomic.js';
import { ClusterJobError } from './errors.js';
import {
  DATA_DIR,
  JOB_FILE,
  JOB_FORMAT,
  JOB_VERSION,
  jobTemplateDir,
  LAUNCH_FILE,
  MODEL_DIR,
  README_FILE,
  SCRIPT_FILE,
  START_THRESHOLDS_FILE,
  type ArrayRef,
  type JobFile,
} from './job-format.js';
import { jobReadme, launchScript } from './launch.js';
import { gpuMemory, type GpuMemory } from './memory.js';
import type { ExportJobSettings } from './settings.js';

export interface ExportedJob {
  jobDir: string;
  steps: number;
  tokensPerStep: number;
  trainBlocks: number;
  validationBlocks: number;
  /** Things the user should know about the data (the byte budget cut it, no validation set). */
  notes: string[];
  memory: GpuMemory[];
}

/** GPU counts the README's memory table shows. */
export const GPU_COUNTS = [1, 2, 4, 8, 16, 32, 64];

export async function exportClusterJob(requested: ExportJobSettings, progress: (message: string) => void = () => {}): Promise<ExportedJob> {
  const jobDir = resolve(requested.jobDir);
  const existing = await readdir(jobDir).catch(() => null);
  if (existing && existing.length > 0) throw new ClusterJobError(`${jobDir} already exists and is not empty. Choose a new folder for the job.`);
  const source = await openModelFolder(requested.modelDir);
  const settings = { ...requested, blockSize: blockSizeFor(requested.blockSize, source.spec.maxPositions) };
  if (settings.blockSize > source.spec.maxPositions) {
    throw new ClusterJobError(`The block size ${settings.blockSize} is longer than the model's context (${source.spec.maxPositions} positions).`);
  }

  progress('Reading and tokenising the data');
  const tokenizer = await loadTokenizer(source.tokenizerFiles, source.config);
  const dataset = await loadJobDataset(settings, tokenizer.forData());

  // Built beside the final folder and renamed into place, so a half-written job never looks complete.
  const staging = siblingPath(jobDir, 'tmp');
  await mkdir(join(staging, DATA_DIR), { recursive: true });
  const write = async (file: string, array: ArrayBufferView): Promise<ArrayRef> => {
    await writeFile(join(staging, DATA_DIR, file), new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
    return { file: `${DATA_DIR}/${file}`, count: (array as unknown as { length: number }).length };
  };
  const writeSplit = async (name: string, split: PackedSplit) => ({
    ids: await write(`${name}-ids.i32`, Int32Array.from(split.ids)),
    mask: split.mask ? await write(`${name}-mask.u8`, split.mask) : null,
  });

  // Scope all: every site's starting thresholds, read here by the engine as the native trainer does.
  let startThresholds: string | null = null;
  if (settings.scope === 'all') {
    progress('Measuring the starting thresholds of every site');
    startThresholds = `${DATA_DIR}/${START_THRESHOLDS_FILE}`;
    const weights = await startingSiteThresholds(loadNative(), source.spec, dataset, settings.seed);
    await writeSafetensors(join(staging, startThresholds), spikingTensors(weights));
  }

  progress('Writing the data order');
  const batches = new TrainBatches(dataset, settings.batchSize, { epoch: 0, index: 0, seed: settings.seed });
  const micro = settings.steps * settings.gradAccum;
  const samples = new BigInt64Array(micro * settings.batchSize);
  for (let m = 0; m < micro; m++) {
    batches.nextBlocks().forEach((block, row) => (samples[m * settings.batchSize + row] = BigInt(dataset.train.blockStarts[block]!)));
  }
  const validationStarts = BigInt64Array.from(validationBlocks(dataset, settings.valBlocks), (block) => BigInt(dataset.validation.blockStarts[block]!));
  const data: JobFile['data'] = {
    train: await writeSplit('train', dataset.train),
    samples: await write('train-samples.i64', samples),
    validation: { ...(await writeSplit('validation', dataset.validation)), starts: await write('validation-starts.i64', validationStarts) },
    stats: { ...dataset.stats },
    startThresholds,
  };

  progress('Copying the model');
  const copyFiles = await copyModel(source, join(staging, MODEL_DIR));

  const tokensPerStep = settings.batchSize * settings.blockSize * settings.gradAccum;
  const shape = modelShape(source.spec, source.summary.parameterCount + source.spec.numLayers);
  const memory = gpuMemory(shape, source.spec.numHeads, settings.batchSize, settings.blockSize, GPU_COUNTS);
  const job: JobFile = {
    format: JOB_FORMAT,
    version: JOB_VERSION,
    createdAt: new Date().toISOString(),
    createdBy: `${APP_NAME} ${APP_VERSION}`,
    sourceModel: { path: source.dir, name: basename(source.dir) },
    settings: scriptSettings(settings),
    model: { ...modelPlan(source), dir: MODEL_DIR, copyFiles },
    spiking: spikingConfigJson(stage1SpikingConfig(settings.qcfs.levels, settings.timesteps, source.spec.family, settings.scope)),
    data,
  };
  await writeFile(join(staging, JOB_FILE), JSON.stringify(job, null, 2) + '\n');
  await copyFile(join(jobTemplateDir(), SCRIPT_FILE), join(staging, SCRIPT_FILE));
  await writeFile(join(staging, LAUNCH_FILE), launchScript());
  await chmod(join(staging, LAUNCH_FILE), 0o755);
  await writeFile(join(staging, README_FILE), jobReadme({ job, summary: source.summary, memory, tokensPerStep, notes: dataset.notes }));
  if (existing) await rmdir(jobDir);
  await rename(staging, jobDir);
  return {
    jobDir,
    steps: settings.steps,
    tokensPerStep,
    trainBlocks: dataset.stats.trainBlocks,
    validationBlocks: validationStarts.length,
    notes: dataset.notes,
    memory,
  };
}

/** The stage-1 settings the script reads, by name. */
const SCRIPT_SETTINGS = [
  'steps',
  'batchSize',
  'blockSize',
  'gradAccum',
  'lr',
  'thresholdLr',
  'weightDecay',
  'warmupSteps',
  'decay',
  'clipNorm',
  'beta1',
  'beta2',
  'eps',
  'valEvery',
  'saveEvery',
  'seed',
  'timesteps',
  'scope',
] as const satisfies readonly (keyof ExportJobSettings)[];

/** The settings the script uses, flat (the app's own are kept too, for the record). */
function scriptSettings(s: ExportJobSettings): Record<string, unknown> {
  return {
    ...Object.fromEntries(SCRIPT_SETTINGS.map((key) => [key, s[key]])),
    levels: s.qcfs.levels,
    initialLambda: s.qcfs.initialLambda,
    app: { dataPath: resolve(s.dataPath), validationFraction: s.validationFraction, valBlocks: s.valBlocks, maxDataBytes: s.maxDataBytes ?? null },
  };
}

/** The engine's hyper-parameters and every canonical tensor with the Hugging Face tensor it comes from (mapping.ts). */
function modelPlan(source: OpenedModelFolder) {
  const { tensors: _refs, ...spec } = source.spec satisfies NativeModelSpec;
  const tensors = familyLayout(source.config.family)
    .tensors(source.config)
    .map((t) => ({ canonical: t.canonical, hf: source.prefix + t.hfName, shape: t.shape, transposed: t.transposed ?? false, split: t.split ?? null }));
  if (!spec.tiedHead) tensors.push({ canonical: 'head.weight', hf: HEAD, shape: [spec.vocabSize, spec.wordEmbedDim], transposed: false, split: null });
  return { ...spec, prefix: source.prefix, tensors };
}

/** Weights (hard-linked when the file system allows, else copied), config and tokenizer files; returns the non-weight files. */
async function copyModel(source: OpenedModelFolder, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const checkpoint = await readCheckpoint(source.dir);
  const weights = checkpoint.files.map((f) => basename(f));
  if (checkpoint.files.length > 1 || basename(checkpoint.source) !== basename(checkpoint.files[0]!)) weights.push(basename(checkpoint.source));
  for (const file of weights) await link(join(source.dir, file), join(dir, file)).catch(() => copyFile(join(source.dir, file), join(dir, file)));
  const optional = ['generation_config.json'];
  const files = [
    'config.json',
    source.tokenizerFiles.tokenizerJson,
    source.tokenizerFiles.tokenizerConfig,
    source.tokenizerFiles.specialTokensMap,
    ...(await Promise.all(optional.map(async (f) => ((await stat(join(source.dir, f)).catch(() => null)) ? f : null)))),
  ]
    .filter((f): f is string => f !== null)
    .map((f) => basename(f));
  for (const file of files) await copyFile(join(source.dir, file), join(dir, file));
  return files;
}
