// The cluster job folder (`fas export-job`, run by job/fas_stage1.py under torchrun, read back by
// `fas import-job`): its file names and job.json, in one place for the writer and the reader.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ClusterJobError } from './errors.js';

export const JOB_FORMAT = 'fas-cluster-job';
/** Bumped with job/fas_stage1.py's JOB_VERSION when job.json changes. */
export const JOB_VERSION = 1;
export const JOB_FILE = 'job.json';
export const SCRIPT_FILE = 'fas_stage1.py';
export const LAUNCH_FILE = 'launch.sh';
export const README_FILE = 'README.md';
/** The source model, copied into the job. */
export const MODEL_DIR = 'model';
export const DATA_DIR = 'data';
/** Scope all: every site's starting thresholds (spiking.safetensors names), in DATA_DIR. */
export const START_THRESHOLDS_FILE = 'start-thresholds.safetensors';
/** What the script writes: output/model (the finished model), output/checkpoint, output/log.jsonl, output/result.json. */
export const OUTPUT_DIR = 'output';
export const OUTPUT_MODEL_DIR = join(OUTPUT_DIR, 'model');
export const OUTPUT_CHECKPOINT_DIR = join(OUTPUT_DIR, 'checkpoint');

/** A raw little-endian array in the job folder (int32 token ids, uint8 masks, int64 block starts). */
const arrayRef = z.object({ file: z.string(), count: z.number().int().nonnegative() });
export type ArrayRef = z.infer<typeof arrayRef>;

const splitRef = z.object({ ids: arrayRef, mask: arrayRef.nullable() });

/** What import-job reads back; the script reads the rest (the model plan, the settings' details). */
export const jobFileSchema = z.object({
  format: z.literal(JOB_FORMAT),
  version: z.number().int(),
  createdAt: z.string(),
  createdBy: z.string(),
  sourceModel: z.object({ path: z.string(), name: z.string() }),
  settings: z.record(z.string(), z.unknown()),
  model: z.object({ numLayers: z.number().int(), ffnSize: z.number().int(), family: z.string() }).passthrough(),
  spiking: z.record(z.string(), z.unknown()),
  data: z.object({
    train: splitRef,
    samples: arrayRef,
    validation: splitRef.extend({ starts: arrayRef }),
    stats: z.record(z.string(), z.unknown()),
    /** Scope all: the file of every site's starting thresholds; null in scope ffn (one initialLambda). */
    startThresholds: z.string().nullable(),
  }),
});
export type JobFile = z.infer<typeof jobFileSchema>;

export async function readJobFile(jobDir: string): Promise<JobFile> {
  const file = join(jobDir, JOB_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ClusterJobError(missing ? `${jobDir} has no ${JOB_FILE}: it is not a job folder written by "fas export-job".` : `${file} is not valid JSON.`);
  }
  const version = (raw as { version?: unknown } | null)?.version;
  if ((raw as { format?: unknown } | null)?.format === JOB_FORMAT && typeof version === 'number' && version !== JOB_VERSION) {
    throw new ClusterJobError(`${file} is cluster job format version ${version}; this app reads version ${JOB_VERSION}.`);
  }
  const parsed = jobFileSchema.safeParse(raw);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'file'}: ${i.message}`).join('; ');
    throw new ClusterJobError(`${file} is not a valid FAS cluster job (${detail}).`);
  }
  return parsed.data;
}

/** electron/core/cluster/job, from the sources or from the build (dist/electron/core/cluster), which does not copy it. */
export function jobTemplateDir(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const candidates = ['.', '../../../../electron/core/cluster'].map((up) => join(here, up, 'job'));
  return candidates.find((dir) => existsSync(join(dir, SCRIPT_FILE))) ?? candidates[0]!;
}
