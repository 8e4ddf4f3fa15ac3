// kill -9 at seeded random moments of a training run, a calibration and a conversion on a tiny
// model, a few times each, then starting again: every restart works, leaves no temporary files, and
// a resumed training or calibration ends with exactly the bytes of an uninterrupted one. The jobs run
// in `fas` processes (needs `npm run build:core`), which is what SIGKILL hits.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNative } from '../../native/index.js';
import { mulberry32 } from '../../electron/core/random.js';
import { openModelFolder } from '../../electron/core/model/folder.js';
import { finetuneSettings } from '../../electron/core/training/settings.js';
import { runTraining } from '../../electron/core/training/train-loop.js';
import { tempDir, writeTinyModel } from '../helpers/tiny-models.js';

const cli = fileURLToPath(new URL('../../dist/electron/cli/fas.js', import.meta.url));
/** Each test runs up to six `fas` processes: on a busy 2-core machine that can take a while. */
const RUNS_TIMEOUT_MS = 120_000;
const TEXT = 'The whale swam on. The sea was calm and grey. Ishmael watched the whale.\n\n'.repeat(40);

interface Outcome {
  code: number | null;
  killed: boolean;
  stderr: string;
  ms: number;
}

/** Runs `fas args`; `killWhen` resolves when to send SIGKILL (unless the run ended first). */
function fas(args: string[], killWhen?: Promise<void>): Promise<Outcome> {
  const started = Date.now();
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let killed = false;
  let exited = false;
  void killWhen?.then(() => {
    if (!exited) killed = child.kill('SIGKILL');
  });
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      exited = true;
      resolve({ code, killed, stderr, ms: Date.now() - started });
    }),
  );
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** Hidden temporaries or moved-aside folders anywhere under `dir`. */
function leftovers(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((p) => /\.(tmp|old)-[0-9a-f]{8}$/.test(p));
}

const mtime = (file: string) => (existsSync(file) ? statSync(file).mtimeMs : 0);

/**
 * Whether a killed run in `out` saved a checkpoint to resume: `checkpoint/<state file>`, or the
 * checkpoint folder a save interrupted mid-swap had moved aside (the next run puts it back first).
 */
function savedCheckpoint(out: string, stateFile: string): boolean {
  if (existsSync(join(out, 'checkpoint', stateFile))) return true;
  return existsSync(out) && readdirSync(out).some((name) => /^\.checkpoint\.old-[0-9a-f]{8}$/.test(name));
}

/** Resolves `delayMs` after `file` changes (a run saved a checkpoint); never, if it does not within `limitMs`. */
async function afterNewCheckpoint(file: string, delayMs: number, limitMs: number): Promise<void> {
  const before = mtime(file);
  const until = Date.now() + limitMs;
  while (mtime(file) === before) {
    if (Date.now() > until) return new Promise(() => {});
    await sleep(5);
  }
  await sleep(delayMs);
}

/**
 * Kills `kills` runs, each started again as `restart` says, then lets the last one finish: the first at a
 * seeded moment of the first half of an uninterrupted run's time (maybe before any checkpoint), the
 * others a seeded 0-100 ms after they saved a checkpoint (in the next step or layer, or the next save).
 * Every run that ended on its own must have succeeded. A first run that ends before its moment (the
 * machine got faster than during the uninterrupted run, which other tests may have slowed) is a
 * success, not a kill: `reset` undoes it and the next try aims within that run's own time.
 * Returns how many were killed.
 */
async function killAndRestart(
  seed: number,
  kills: number,
  durationMs: number,
  checkpoint: string,
  restart: () => string[],
  reset: () => void,
): Promise<number> {
  const random = mulberry32(seed);
  let duration = durationMs;
  for (let attempt = 0; ; attempt++) {
    const first = await fas(restart(), sleep(random() * 0.5 * duration));
    if (first.killed) break;
    expect(first.code, first.stderr).toBe(0);
    if (attempt === 4) return 0;
    duration = first.ms;
    reset();
  }
  let killed = 1;
  for (let i = 1; i < kills; i++) {
    const run = await fas(restart(), afterNewCheckpoint(checkpoint, random() * 100, 2 * duration));
    if (!run.killed) {
      expect(run.code, run.stderr).toBe(0);
      return killed;
    }
    killed++;
  }
  const last = await fas(restart());
  expect(last.code, last.stderr).toBe(0);
  return killed;
}

describe('kill -9 and start again', async () => {
  const temp = await tempDir();
  afterAll(() => temp.cleanup());
  const model = join(temp.path, 'tiny');
  await writeTinyModel(model, 'gpt2');
  const data = join(temp.path, 'data.txt');
  writeFileSync(data, TEXT);

  it(
    'training: every resume works and ends bit-identical to an uninterrupted run',
    async () => {
      const args = (out: string) => [
        'train',
        model,
        '--data',
        data,
        '--out',
        out,
        '--steps',
        '40',
        '--batch',
        '2',
        '--block',
        '16',
        '--save-every',
        '4',
        '--val-every',
        '20',
        '--seed',
        '3',
        '--lr',
        '0.003',
      ];
      const straight = join(temp.path, 'train-straight');
      const reference = await fas(args(straight));
      expect(reference.code, reference.stderr).toBe(0);
      const out = join(temp.path, 'train-killed');
      const checkpoint = join(out, 'checkpoint', 'trainer_state.json');
      const killed = await killAndRestart(
        11,
        3,
        reference.ms,
        checkpoint,
        () =>
          existsSync(join(out, 'model.safetensors')) ? ['info', out] : [...args(out), ...(savedCheckpoint(out, 'trainer_state.json') ? ['--resume'] : [])],
        () => rmSync(out, { recursive: true, force: true }),
      );
      expect(killed).toBeGreaterThanOrEqual(1);
      expect(leftovers(out)).toEqual([]);
      expect(Buffer.compare(readFileSync(join(straight, 'model.safetensors')), readFileSync(join(out, 'model.safetensors')))).toBe(0);
    },
    RUNS_TIMEOUT_MS,
  );

  it(
    'calibration: every resume works and ends bit-identical to an uninterrupted run',
    async () => {
      const stage1 = join(temp.path, 'stage1');
      const ctx = { runDir: temp.path, signal: new AbortController().signal, progress: () => {}, log: () => {} };
      await runTraining(
        finetuneSettings.parse({ modelDir: model, dataPath: data, outDir: stage1, steps: 4, batchSize: 2, blockSize: 16, valEvery: 4, seed: 2 }),
        ctx,
        loadNative(),
      );
      const args = (out: string) => [
        'calibrate',
        stage1,
        '--data',
        data,
        '--out',
        out,
        '--T',
        '2',
        '--samples',
        '8',
        '--batch',
        '2',
        '--block',
        '16',
        '--epochs',
        '4',
        '--joint-epochs',
        '2',
        '--seed',
        '2',
      ];
      const straight = join(temp.path, 'calibrate-straight');
      const reference = await fas(args(straight));
      expect(reference.code, reference.stderr).toBe(0);
      const out = join(temp.path, 'calibrate-killed');
      const checkpoint = join(out, 'checkpoint', 'calibration_state.json');
      const killed = await killAndRestart(
        22,
        3,
        reference.ms,
        checkpoint,
        () =>
          existsSync(join(out, 'spiking.safetensors'))
            ? ['info', out]
            : [...args(out), ...(savedCheckpoint(out, 'calibration_state.json') ? ['--resume'] : [])],
        () => rmSync(out, { recursive: true, force: true }),
      );
      expect(killed).toBeGreaterThanOrEqual(1);
      expect(leftovers(out)).toEqual([]);
      expect(Buffer.compare(readFileSync(join(straight, 'spiking.safetensors')), readFileSync(join(out, 'spiking.safetensors')))).toBe(0);
    },
    RUNS_TIMEOUT_MS,
  );

  it(
    'conversion: killed while it replaces an earlier one, then started again, it finishes and leaves nothing half written',
    async () => {
      const out = join(temp.path, 'converted');
      const args = ['convert', model, '--data', data, '--out', out, '--steps', '8', '--T', '2', '--samples', '4', '--level', 'layer', '--overwrite'];
      const reference = await fas(args);
      expect(reference.code, reference.stderr).toBe(0);
      // A run that ends unkilled replaced the earlier conversion in full: the next one replaces it again.
      const checkpoint = join(out, 'stage2-spiking', 'checkpoint', 'calibration_state.json');
      expect(
        await killAndRestart(
          33,
          2,
          reference.ms,
          checkpoint,
          () => args,
          () => {},
        ),
      ).toBeGreaterThanOrEqual(1);
      expect(leftovers(out)).toEqual([]);
      expect((await openModelFolder(join(out, 'stage2-spiking'))).summary.layers).toBe(2);
    },
    RUNS_TIMEOUT_MS,
  );
});
