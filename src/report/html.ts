/**
 * report.html: one self-contained page — inline CSS, the charts as inline SVG, no scripts, no
 * fonts or images from anywhere. A Content-Security-Policy forbids every fetch, so the page looks
 * the same offline, attached to an email, or in a CI artifact.
 */
import type { RenderedChart } from './charts.js';
import { accuracyTable, energyTable, environmentTable, headline, keyFigures, layerTable, sharpeningTable, type Table } from './figures.js';
import type { RunRecord } from './run.js';
import { runSharpness } from './sharpness.js';

export const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The stylesheet of every Whetstone HTML page (run reports, sweep reports). */
export const STYLE = `
:root { --ink: #1f2933; --muted: #616e7c; --line: #e5e7eb; --panel: #f8fafc; --accent: #2563eb; --warn: #b45309; }
* { box-sizing: border-box; }
body { margin: 0; background: #f1f5f9; color: var(--ink); font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 24px 40px; }
header h1 { margin: 0; font-size: 22px; font-weight: 650; word-break: break-all; }
header p { margin: 4px 0 0; color: var(--muted); }
.notice { margin-top: 14px; padding: 10px 14px; border-left: 4px solid var(--warn); background: #fffbeb; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: 12px; margin: 22px 0 8px; }
.card { background: white; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 24px; font-weight: 650; margin: 2px 0; font-variant-numeric: tabular-nums; white-space: nowrap; }
.card .detail { color: var(--muted); font-size: 12px; }
section { background: white; border: 1px solid var(--line); border-radius: 8px; padding: 18px 20px; margin-top: 18px; }
h2 { margin: 0 0 12px; font-size: 17px; font-weight: 650; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 16px; align-items: start; }
figure { margin: 0; }
figure svg { max-width: 100%; height: auto; display: block; }
figure + div table { margin-top: 0; }
.grid > * { min-width: 0; }
figcaption { color: var(--muted); font-size: 12.5px; margin-top: 4px; }
figcaption b { color: var(--ink); font-weight: 600; }
table { border-collapse: collapse; width: 100%; margin-top: 14px; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: 12.5px; background: var(--panel); }
td.num, th.num { text-align: right; white-space: nowrap; }
tr:last-child td { border-bottom: none; }
.muted { color: var(--muted); }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; overflow: auto; font: 12.5px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; margin: 0; }
.two { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 18px; }
.two > section { margin-top: 18px; }
footer { color: var(--muted); font-size: 12px; margin-top: 22px; text-align: center; }
`;

export function htmlTable(t: Table, className = ''): string {
  const head = t.header.every((h) => h === '') ? '' : `<thead><tr>${t.header.map((h, i) => `<th${t.numeric.includes(i) ? ' class="num"' : ''}>${escape(h)}</th>`).join('')}</tr></thead>`;
  const body = t.rows.map((r) => `<tr>${r.map((c, i) => `<td${t.numeric.includes(i) ? ' class="num"' : ''}>${escape(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table${className === '' ? '' : ` class="${className}"`}>${head}<tbody>\n${body}\n</tbody></table>`;
}

export function figure(chart: RenderedChart | undefined): string {
  if (chart === undefined) return '';
  return `<figure class="chart" data-chart="${escape(chart.name)}">${chart.svg}<figcaption><b>${escape(chart.title)}.</b> ${escape(chart.caption)}</figcaption></figure>`;
}

export function renderHtml(run: RunRecord, charts: readonly RenderedChart[]): string {
  const chart = (name: string) => charts.find((c) => c.name === name);
  const parts: string[] = [];
  parts.push(`<header><h1>${escape(run.id)}</h1><p>${escape(headline(run))}</p>`);
  if (run.summary === null) parts.push('<p class="notice">This run has not ended (no summary.json): only its training record is shown.</p>');
  else if (!run.summary.sharpening_finished) parts.push('<p class="notice">Sharpening did not finish within the epoch limit: the spiking figures are of a partly sharpened network.</p>');
  parts.push('</header>');

  parts.push(
    `<div class="cards">${keyFigures(run)
      .map((f) => `<div class="card"><div class="label">${escape(f.label)}</div><div class="value">${escape(f.value)}</div><div class="detail">${escape(f.detail)}</div></div>`)
      .join('')}</div>`,
  );

  parts.push(`<section><h2>Final accuracy</h2>${htmlTable(accuracyTable(run))}</section>`);
  parts.push(`<section><h2>Training</h2><div class="grid">${figure(chart('accuracy'))}${figure(chart('loss'))}</div></section>`);
  parts.push(`<section><h2>Sharpening</h2><div class="grid">${figure(chart('sharpness'))}<div>${htmlTable(sharpeningTable(run, runSharpness(run)))}</div></div></section>`);

  const layers = layerTable(run);
  if (layers !== null) {
    parts.push(`<section><h2>Spiking activity</h2><div class="grid">${figure(chart('spikes'))}${figure(chart('active'))}</div>${htmlTable(layers)}</section>`);
  }
  const energy = energyTable(run);
  if (energy !== null && run.evaluation !== null) {
    parts.push(
      `<section><h2>Operations and energy per inference</h2><div class="grid">${figure(chart('operations'))}${figure(chart('energy'))}</div><p class="muted">Energy is an ${escape(run.evaluation.energy.note)}.</p>${htmlTable(energy)}</section>`,
    );
  }
  if (chart('confusion') !== undefined) parts.push(`<section><h2>Confusion matrix</h2>${figure(chart('confusion'))}</section>`);

  parts.push(
    `<div class="two"><section><h2>Configuration</h2><pre>${escape(run.configText.trimEnd())}</pre></section><section><h2>Environment</h2>${htmlTable(environmentTable(run))}</section></div>`,
  );
  parts.push('<footer>Rendered by <code>whetstone report</code> from the files in this run directory.</footer>');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${escape(run.id)} — whetstone report</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${parts.join('\n')}
</main>
</body>
</html>
`;
}
