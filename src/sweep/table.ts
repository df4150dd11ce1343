/** A sweep's runs as one table (ranked), shared by the terminal and report.html. */
import type { Table } from '../report/figures.js';
import { fixed, pct } from '../util/format.js';
import type { SweepSummary } from './summary.js';

/** Accuracies read as percentages; any other metric as a plain number. */
export function formatMetric(metric: string, v: number | null): string {
  return /accuracy/.test(metric) ? pct(v) : fixed(v, 4);
}

const formatValue = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

export function sweepTable(summary: SweepSummary): Table {
  const keys = [...new Set(summary.runs.flatMap((r) => Object.keys(r.set)))];
  return {
    header: ['rank', 'run', 'status', summary.metric, ...keys],
    rows: summary.runs.map((r) => [
      r.rank === null ? '' : String(r.rank),
      r.id,
      r.status === 'stopped' && r.stopped_at_epoch !== undefined ? `stopped at epoch ${r.stopped_at_epoch}` : r.status,
      formatMetric(summary.metric, r.metric),
      ...keys.map((k) => (k in r.set ? formatValue(r.set[k]) : '')),
    ]),
    numeric: [0, 3],
  };
}

/** `2/4 done · 1 running · 1 queued · 0 failed · best <id> 85.20%` */
export function statusLine(summary: SweepSummary): string {
  const c = summary.counts;
  const total = summary.runs.length;
  const parts = [`${c.done}/${total} done`, `${c.running} running`, `${c.queued + c.pending + c.interrupted} waiting`, `${c.failed} failed`];
  if (c.stopped > 0) parts.push(`${c.stopped} stopped early`);
  const best = summary.runs.find((r) => r.id === summary.best);
  if (best !== undefined) parts.push(`best ${best.id} ${summary.metric} ${formatMetric(summary.metric, best.metric)}`);
  return parts.join(' · ');
}
