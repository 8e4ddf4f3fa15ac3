// "Run stage 1 on a cluster" in the fine-tuning wizard and "Import a finished cluster run" in the Library,
// in headless Chromium against the real core: the wizard writes the job folder with its settings, and the
// Library says in words why a job that has not run yet cannot be imported. (A job run with PyTorch and
// imported: test/model/cluster-job.test.ts.) Needs `npm run build:core && npm run build:ui`.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppCore } from '../../electron/core/app-core.js';
import { writeTinyModel } from '../helpers/tiny-models.js';
import { ARTIFACTS } from './browser.js';
import { serveApp, type ServedApp, watchErrors } from './test-app.js';

describe('cluster jobs in the app', () => {
  const temp = mkdtempSync(join(tmpdir(), 'fas-e2e-cluster-'));
  const dataPath = join(temp, 'whale.txt');
  const jobDir = join(temp, 'cluster-job');
  let app: ServedApp;

  beforeAll(async () => {
    await writeTinyModel(join(temp, 'tiny-gpt2'), 'gpt2');
    writeFileSync(dataPath, 'The whale swam on. The sea was calm and grey.\n\n'.repeat(60));
    const core = new AppCore({ workspaceDir: join(temp, 'workspace') });
    await core.call('models.open', { path: join(temp, 'tiny-gpt2') });
    app = await serveApp(core);
  });
  afterAll(() => app?.close());

  it('writes a job from the wizard, and the Library explains why an unfinished job does not import', async () => {
    const page = await app.browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.setDefaultTimeout(15_000);
    const errors = watchErrors(page);
    await page.goto(`${app.server.url}#/finetune`);
    const next = page.getByRole('button', { name: 'Next' });
    await page.getByRole('radio', { name: /tiny-gpt2/ }).check();
    await next.click();
    await page.getByRole('radio', { name: 'My own text' }).check();
    await page.getByLabel('File or folder').fill(dataPath);
    await page.getByText(/Found one file/).waitFor();
    await next.click();
    await page.getByRole('spinbutton', { name: 'Steps', exact: true }).fill('5');
    await page.getByLabel('Batch size').fill('2');
    await page.getByLabel('Block size').fill('16');
    await next.click();

    const panel = page.getByTestId('cluster-export');
    await panel.getByRole('heading', { name: 'Run stage 1 on a cluster' }).waitFor();
    await panel.getByLabel('Job folder').fill(jobDir);
    await panel.getByRole('button', { name: 'Write the cluster job' }).click();
    await panel
      .getByRole('status')
      .filter({ hasText: /Wrote .*: 5 steps of 32 tokens/ })
      .waitFor();
    await expect(panel.locator('tbody tr').count()).resolves.toBeGreaterThan(0);
    await page.screenshot({ path: `${ARTIFACTS}cluster-export.png`, fullPage: true });
    const job = JSON.parse(readFileSync(join(jobDir, 'job.json'), 'utf8')) as { settings: Record<string, unknown> };
    expect(job.settings).toMatchObject({ steps: 5, batchSize: 2, blockSize: 16, levels: 8 });
    expect(existsSync(join(jobDir, 'fas_stage1.py'))).toBe(true);

    await page.getByRole('navigation').getByRole('link', { name: 'Library' }).click();
    const form = page.getByTestId('import-cluster-job');
    await form.getByLabel('Job folder').fill(jobDir);
    await form.getByRole('button', { name: 'Import' }).click();
    await form.getByText(/has not finished: there is no output\/model yet/).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}cluster-import-unfinished.png`, fullPage: true });
    // The refusal comes back as a bad request (400), which Chromium logs; nothing else may.
    expect(errors.filter((e) => !/status of 400/.test(e))).toEqual([]);
  }, 90_000);
});
