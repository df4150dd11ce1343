/**
 * report.md: the report's numbers as Markdown tables, with the charts as SVG files beside it
 * (charts/<name>.svg), so that it reads well in a repository or a CI job summary.
 */
import type { RenderedChart } from './charts.js';
import { accuracyTable, confusionTable, energyTable, environmentTable, epochTable, headline, keyFigures, layerTable, sharpeningTable, type Table } from './figures.js';
import type { RunRecord } from './run.js';
import { runSharpness } from './sharpness.js';

/** Folder beside report.md that holds its charts. */
export const CHARTS_DIR = 'charts';

const cell = (text: string) => text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function markdownTable(t: Table): string {
  const header = t.header.map((h) => cell(h) || ' ');
  const rule = t.header.map((_, i) => (t.numeric.includes(i) ? '---:' : '---'));
  const lines = [header, rule, ...t.rows.map((r) => r.map(cell))].map((r) => `| ${r.join(' | ')} |`);
  return lines.join('\n');
}

function image(chart: RenderedChart | undefined): string[] {
  return chart === undefined ? [] : [`![${chart.title}](${CHARTS_DIR}/${chart.name}.svg)`, '', `*${chart.caption}*`, ''];
}

export function renderMarkdown(run: RunRecord, charts: readonly RenderedChart[]): string {
  const chart = (name: string) => charts.find((c) => c.name === name);
  const out: string[] = [];
  out.push(`# ${run.id}`, '', headline(run), '');
  if (run.summary === null) out.push('> This run has not ended (no summary.json): only its training record is shown.', '');
  else if (!run.summary.sharpening_finished) out.push('> Sharpening did not finish within the epoch limit: the spiking figures are of a partly sharpened network.', '');

  const figures = keyFigures(run);
  out.push(markdownTable({ header: ['', 'value', ''], rows: figures.map((f) => [f.label, f.value, f.detail]), numeric: [1] }), '');

  out.push('## Final accuracy', '', markdownTable(accuracyTable(run)), '');

  out.push('## Training', '', ...image(chart('accuracy')), ...image(chart('loss')));
  out.push(markdownTable(epochTable(run)), '');

  out.push('## Sharpening', '', ...image(chart('sharpness')), markdownTable(sharpeningTable(run, runSharpness(run))), '');

  const layers = layerTable(run);
  if (layers !== null) {
    out.push('## Spiking activity and operations', '', ...image(chart('spikes')), ...image(chart('active')), ...image(chart('operations')));
    out.push(markdownTable(layers), '');
  }
  const confusion = confusionTable(run);
  if (confusion !== null) out.push('## Confusion matrix', '', ...image(chart('confusion')), markdownTable(confusion), '');

  const energy = energyTable(run);
  if (energy !== null && run.evaluation !== null) {
    out.push('## Energy per inference (estimate)', '', ...image(chart('energy')), `Energy is an ${run.evaluation.energy.note}.`, '', markdownTable(energy), '');
  }

  out.push('## Configuration', '', '```yaml', run.configText.trimEnd(), '```', '');
  out.push('## Environment', '', markdownTable(environmentTable(run)), '');
  return `${out.join('\n').trimEnd()}\n`;
}
