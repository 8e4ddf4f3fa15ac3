// A self-contained HTML page for an evaluation run (charts by chart.js, inlined so the page opens
// offline from disk): the metric against T, firing rate per layer, energy of the original and the
// spiking model, in the words the app uses.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { EvalReport } from './evaluate.js';
import { energyLine, rowWords, siteWords } from '../../shared/reply-words.js';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export async function htmlReport(report: EvalReport): Promise<string> {
  // The package's exports map hides its UMD build; it sits beside the CommonJS entry.
  const chartJs = await readFile(join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
  const metric = report.task.kind === 'perplexity' ? 'perplexity' : 'acc';
  const label = metric === 'perplexity' ? 'Perplexity (lower is better)' : 'Accuracy (higher is better)';
  const value = (r: EvalReport['rows'][number]) => (metric === 'perplexity' ? r.perplexity! : r.acc!);
  const rows = report.rows
    .map((r) => {
      const cells = metric === 'perplexity' ? [r.perplexity!.toFixed(2)] : [`${(100 * r.acc!).toFixed(1)}%`, `${(100 * r.accNorm!).toFixed(1)}%`];
      return `<tr><td>${escape(rowWords(r))}</td>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
    })
    .join('');
  const snn = report.rows.filter((r) => r.mode === 'snn');
  const reference = report.rows.filter((r) => r.mode !== 'snn');
  const data = {
    metricLabel: label,
    timesteps: snn.map((r) => r.timesteps),
    snn: snn.map(value),
    references: reference.map((r) => ({ label: rowWords(r), value: value(r) })),
    firing: report.firing ?? null,
    energy: report.energy ?? null,
  };
  const head = metric === 'perplexity' ? '<th>Perplexity</th>' : '<th>Accuracy</th><th>Accuracy (length-normalised)</th>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Evaluation: ${escape(report.task.name)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1c1d21}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #dcdde3;padding:.35rem .7rem;text-align:left}
.warn{color:#b35c00}.chart{position:relative;height:320px;margin:1.5rem 0}.muted{color:#5d6170}
</style></head><body>
<h1>Evaluation report</h1>
<p>Model <code>${escape(report.model.dir)}</code> (${escape(report.model.architecture)}, ${(report.model.parameters / 1e6).toFixed(2)} M parameters, ${escape(report.model.stage)}).<br>
Task <strong>${escape(report.task.name)}</strong>: ${report.task.size} ${report.task.kind === 'perplexity' ? 'tokens scored' : 'items'}${report.task.chance !== undefined ? `, chance ${(100 * report.task.chance).toFixed(1)}%` : ''}. ${escape(new Date(report.createdAt).toUTCString())}.</p>
${report.warnings.map((w) => `<p class="warn" role="alert">${escape(w)}</p>`).join('')}
<table><thead><tr><th>Model</th>${head}</tr></thead><tbody>${rows}</tbody></table>
${snn.length ? '<h2>Against the number of timesteps T</h2><div class="chart"><canvas id="metric" aria-label="metric against T"></canvas></div>' : ''}
${data.firing ? '<h2>Firing rate per layer</h2><div class="chart"><canvas id="firing" aria-label="firing rate per layer"></canvas></div>' : ''}
${report.energy ? `<h2>Energy per token</h2><div class="chart"><canvas id="energy" aria-label="energy per token"></canvas></div><p data-testid="energy-line">${escape(energyLine(report.energy))}</p><p class="muted">${escape(report.energy.counted)}</p>` : ''}
${report.energy?.perSite ? sitesTable(report.energy) : ''}
<script>${chartJs}</script>
<script>
const data = ${JSON.stringify(data).replace(/</g, '\\u003c')};
const palette = ['#3b5bdb', '#e8590c', '#2b8a3e', '#ae3ec9'];
if (data.timesteps.length) new Chart(document.getElementById('metric'), { type: 'line', data: { labels: data.timesteps.map((t) => 'T=' + t), datasets: [
  { label: 'Spiking model', data: data.snn, borderColor: palette[0], backgroundColor: palette[0] },
  ...data.references.map((r, i) => ({ label: r.label, data: data.timesteps.map(() => r.value), borderDash: [6, 4], pointRadius: 0, borderColor: palette[i + 1] })),
] }, options: { maintainAspectRatio: false, scales: { y: { title: { display: true, text: data.metricLabel } } } } });
if (data.firing) new Chart(document.getElementById('firing'), { type: 'bar', data: { labels: data.firing.perLayer.map((_, i) => 'layer ' + i), datasets: [
  { label: 'Firing rate at T=' + data.firing.timesteps, data: data.firing.perLayer, backgroundColor: palette[0] }] }, options: { maintainAspectRatio: false, scales: { y: { min: 0, max: 1 } } } });
if (data.energy) new Chart(document.getElementById('energy'), { type: 'bar', data: { labels: ['Original (ANN)', 'Spiking (T = ' + data.energy.timesteps + ')'], datasets: [
  { label: 'Multiply-accumulates (µJ)', data: [data.energy.annMacJoules * 1e6, data.energy.snnMacJoules * 1e6], backgroundColor: palette[0] },
  { label: 'Spike accumulates (µJ)', data: [0, data.energy.snnAcJoules * 1e6], backgroundColor: palette[1] }] },
  options: { maintainAspectRatio: false, scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: 'µJ per token' } } } } });
</script></body></html>
`;
}

/** Every layer spiking: per site, the mean spike count per value and its share of the original's energy. */
function sitesTable(energy: NonNullable<EvalReport['energy']>): string {
  const rows = energy
    .perSite!.map(
      (s) =>
        `<tr><td>${escape(siteWords(s.site))}</td><td>${s.meanCount.toFixed(2)}</td><td>${(s.acJoules * 1e6).toFixed(3)}</td><td>${((100 * s.acJoules) / energy.annMacJoules).toFixed(1)}%</td></tr>`,
    )
    .join('');
  return `<h2>Energy per site at T = ${energy.timesteps}</h2><table data-testid="sites"><thead><tr><th>Site</th><th>Mean |spike count| per value</th><th>AC energy (µJ per token)</th><th>Share of the original's energy</th></tr></thead><tbody>${rows}</tbody></table>`;
}
