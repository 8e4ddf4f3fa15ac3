import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvalReport } from '../../electron/core/eval/evaluate.js';
import { htmlReport } from '../../electron/core/eval/html-report.js';
import { ARTIFACTS, launchBrowser } from './browser.js';

const report: EvalReport = {
  model: { dir: '/models/demo-<stage2>', architecture: 'GPT-2', parameters: 4_270_000, stage: 'calibrated' },
  task: { name: 'ppl (Moby Dick)', kind: 'perplexity', size: 16384 },
  rows: [
    { mode: 'ann', timesteps: null, perplexity: 302.4 },
    { mode: 'qcfs', timesteps: null, perplexity: 310.2 },
    { mode: 'snn', timesteps: 1, perplexity: 2400.5 },
    { mode: 'snn', timesteps: 4, perplexity: 420.7 },
    { mode: 'snn', timesteps: 8, perplexity: 318.9 },
  ],
  firing: { timesteps: 8, perLayer: [0.12, 0.08, 0.1, 0.05] },
  energy: { timesteps: 8, annMacJoules: 4e-5, snnMacJoules: 2.6e-4, snnAcJoules: 3e-6, counted: 'MACs of every dense op, T times.' },
  warnings: ['At T = 1 the spiking model collapses.'],
  createdAt: '2026-11-28T12:00:00.000Z',
};

describe('HTML evaluation report', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(() => browser?.close());

  it('renders its table and three charts offline without errors', async () => {
    const file = join(ARTIFACTS, 'eval-report.html');
    writeFileSync(file, await htmlReport(report));
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('request', (r) => !r.url().startsWith('file:') && errors.push(`network request: ${r.url()}`));
    await page.goto(`file://${file}`);
    expect(await page.locator('tbody tr').count()).toBe(5);
    expect(await page.getByRole('alert').textContent()).toContain('At T = 1');
    // Escaped, not interpreted as markup.
    expect(await page.locator('code').textContent()).toBe('/models/demo-<stage2>');
    const charts = await page.evaluate(() =>
      ['metric', 'firing', 'energy'].map((id) => Boolean((window as unknown as { Chart: { getChart(id: string): unknown } }).Chart.getChart(id))),
    );
    expect(charts).toEqual([true, true, true]);
    expect(await page.getByTestId('energy-line').textContent()).toMatch(
      /^This spiking model spends 6.6× the energy of the original per token \(only the FFN projection/,
    );
    await page.screenshot({ path: join(ARTIFACTS, 'eval-report.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('lists every site of a model spiking at every layer in words, with its counts and share of the original energy', async () => {
    const perSite = [
      { site: 'attn_in', meanCount: 2.35, acJoules: 1.65e-6 },
      { site: 'head_in', meanCount: 2.5, acJoules: 2.37e-6 },
    ];
    const all: EvalReport = { ...report, energy: { timesteps: 8, annMacJoules: 2e-5, snnMacJoules: 0, snnAcJoules: 4.02e-6, counted: 'Scope all.', perSite } };
    const file = join(ARTIFACTS, 'eval-report-all.html');
    writeFileSync(file, await htmlReport(all));
    const page = await browser.newPage();
    await page.goto(`file://${file}`);
    const rows = page.getByTestId('sites').locator('tbody tr');
    expect(await rows.allTextContents()).toEqual(['Attention input (keys, queries, values)2.351.6508.3%', 'Last layer, to the words2.502.37011.8%']);
    expect(await page.getByTestId('energy-line').textContent()).toMatch(
      /^This spiking model spends 0.2× the energy of the original per token \(fewer operations/,
    );
    expect(await htmlReport(report)).not.toContain('data-testid="sites"');
  });
});
