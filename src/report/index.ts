/**
 * The run report: report.html (self-contained, SVG charts), report.md (tables, charts as SVG files
 * beside it) rendered from the files of a run directory alone — no tfjs, no dataset. `train` calls
 * {@link writeReport} at the end of every run; `whetstone report <run-dir>` calls it again.
 * Documented in docs/report.md.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { renderCharts, runCharts } from './charts.js';
import { renderHtml } from './html.js';
import { CHARTS_DIR, renderMarkdown } from './markdown.js';
import { readRun, type RunRecord } from './run.js';

export { readRun, type RunRecord } from './run.js';
export { compareRuns, compareTable, type ComparedRun } from './compare.js';
export { runCharts, renderSvg, type Chart, type RenderedChart } from './charts.js';
export { sharpnessTrace, type SharpnessTrace } from './sharpness.js';

export const REPORT_HTML = 'report.html';
export const REPORT_MD = 'report.md';

export interface WrittenReport {
  readonly runDir: string;
  readonly html: string;
  readonly markdown: string;
  /** The chart SVG files beside report.md. */
  readonly charts: readonly string[];
}

/** Renders a run's report in memory: the HTML page, the Markdown and each chart's SVG. */
export async function renderReport(run: RunRecord): Promise<{ html: string; markdown: string; charts: { name: string; svg: string }[] }> {
  const charts = await renderCharts(runCharts(run));
  return { html: renderHtml(run, charts), markdown: renderMarkdown(run, charts), charts: charts.map((c) => ({ name: c.name, svg: c.svg })) };
}

/**
 * Reads the run directory, renders everything, then writes it (each file atomically): nothing is
 * written when reading or rendering fails. `shown` names the directory in error messages.
 */
export async function writeReport(runDir: string, shown: string = runDir): Promise<WrittenReport> {
  const run = readRun(runDir, shown);
  const rendered = await renderReport(run);
  const charts = rendered.charts.map((c) => {
    const path = join(run.dir, CHARTS_DIR, `${c.name}.svg`);
    writeFileAtomic(path, `<?xml version="1.0" encoding="UTF-8"?>\n${c.svg}\n`);
    return path;
  });
  const markdown = join(run.dir, REPORT_MD);
  writeFileAtomic(markdown, rendered.markdown);
  const html = join(run.dir, REPORT_HTML);
  writeFileAtomic(html, rendered.html);
  return { runDir: run.dir, html, markdown, charts };
}
