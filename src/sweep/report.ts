/**
 * The sweep's report.html: the ranked table of every run and, for each swept key, a chart of the
 * metric against the key's values, drawn with the run reports' chart code and stylesheet, so a
 * sweep's page reads like a run's (self-contained, no scripts, nothing fetched).
 */
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { COLORS, renderSvg, type RenderedChart } from '../report/charts.js';
import { escape, figure, htmlTable, STYLE } from '../report/html.js';
import { writeFileAtomic } from '../util/atomic.js';
import { SWEEP_HTML } from './layout.js';
import type { SweepSummary } from './summary.js';
import { statusLine, sweepTable } from './table.js';

/** Values spanning this factor or more are drawn on a log axis (learning rates, temperatures). */
const LOG_SPAN = 50;
/** A key with this few distinct values (seeds, a short grid) gets one column per value, not a number line. */
const FEW_VALUES = 6;

/** One chart per swept key: the metric of every finished run against the value it set. */
export function sweepCharts(summary: SweepSummary): { name: string; title: string; caption: string; spec: TopLevelSpec }[] {
  const keys = [...new Set(summary.runs.flatMap((r) => Object.keys(r.set)))];
  const done = summary.runs.filter((r) => r.metric !== null);
  return keys.map((key) => {
    const values = done.filter((r) => key in r.set).map((r) => ({ value: r.set[key], metric: r.metric, run: r.id }));
    const numeric = values.every((v) => typeof v.value === 'number');
    const nums = values.map((v) => v.value as number);
    const log = numeric && nums.length > 0 && Math.min(...nums) > 0 && Math.max(...nums) / Math.min(...nums) >= LOG_SPAN;
    const few = new Set(nums).size <= FEW_VALUES && !log;
    const x = numeric && few
      ? { field: 'value', type: 'ordinal' as const, title: key, sort: 'ascending' as const, axis: { labelAngle: 0 } }
      : numeric
      ? { field: 'value', type: 'quantitative' as const, title: key, scale: { type: log ? ('log' as const) : ('linear' as const), zero: false } }
      : { field: 'value', type: 'nominal' as const, title: key };
    return {
      name: `metric-${key}`,
      title: `${summary.metric} against ${key}`,
      caption: `Each point is a finished run: the value it set for ${key} and its ${summary.metric}${log ? ' (log axis)' : ''}.`,
      spec: {
        width: 400,
        height: 220,
        data: { values: values.map((v) => ({ ...v, value: numeric ? v.value : JSON.stringify(v.value) })) },
        mark: { type: 'point', filled: true, size: 70, color: COLORS.spiking },
        encoding: { x, y: { field: 'metric', type: 'quantitative', title: summary.metric, scale: { zero: false }, axis: /accuracy/.test(summary.metric) ? { format: '.1%' } : {} }, tooltip: [{ field: 'run', type: 'nominal' }] },
      } as TopLevelSpec,
    };
  });
}

export async function renderSweepHtml(summary: SweepSummary): Promise<string> {
  const charts: RenderedChart[] = [];
  for (const { spec, ...rest } of sweepCharts(summary)) charts.push({ ...rest, svg: await renderSvg(spec) });
  const title = `sweep ${summary.sweep}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${escape(title)} — whetstone report</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header><h1>${escape(title)}</h1><p>${escape(statusLine(summary))}; ranked by ${escape(summary.metric)} (${summary.goal === 'max' ? 'higher' : 'lower'} is better)</p></header>
<section><h2>Runs</h2>${htmlTable(sweepTable(summary))}</section>
${charts.length === 0 ? '' : `<section><h2>${escape(summary.metric)} against each swept key</h2><div class="grid">${charts.map((c) => figure(c)).join('')}</div></section>`}
<footer>Rendered by <code>whetstone sweep</code> from the sweep's sweep.json.</footer>
</main>
</body>
</html>
`;
}

/** Writes report.html into the sweep's folder; returns its path. */
export async function writeSweepReport(dir: string, summary: SweepSummary): Promise<string> {
  const file = join(dir, SWEEP_HTML);
  writeFileAtomic(file, await renderSweepHtml(summary));
  return file;
}
