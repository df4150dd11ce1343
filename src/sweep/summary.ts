/**
 * sweep.json: every run of a sweep, what it set, how it ended and its summary, ranked by the
 * sweep's metric. Built the same way whether the runs trained here, on queue workers or in CI jobs
 * (`sweep collect`), so the three can be compared file to file.
 */
import { valueAt } from '../config/yaml-paths.js';
import type { TrainSummary } from '../train/summary.js';
import { writeJsonAtomic } from '../util/atomic.js';
import type { Assignment } from './expand.js';

export type RunStatus = 'done' | 'stopped' | 'failed' | 'running' | 'queued' | 'interrupted' | 'pending';

/** One run's line in sweep.json (documented in docs/sweep.md). */
export interface SweepRunRecord {
  id: string;
  /** Position in expansion order, 0-based. */
  index: number;
  status: RunStatus;
  /** 1 for the best finished run; null for runs without a result. */
  rank: number | null;
  /** The swept keys and the values this run set. */
  set: Record<string, unknown>;
  /** The run's summary.json value at the sweep's metric. */
  metric: number | null;
  run_dir: string | null;
  /** Why a run failed, or why it was stopped early. */
  message?: string;
  /** The epoch a run was stopped early at. */
  stopped_at_epoch?: number;
  summary: TrainSummary | null;
}

export interface SweepSummary {
  sweep: string;
  metric: string;
  goal: 'max' | 'min';
  counts: Record<RunStatus, number>;
  /** The id of the best finished run. */
  best: string | null;
  runs: SweepRunRecord[];
}

/** What a run is before ranking: its record without rank and metric. */
export type RunResult = Omit<SweepRunRecord, 'rank' | 'metric'>;

export function assignmentsObject(assignments: readonly Assignment[]): Record<string, unknown> {
  return Object.fromEntries(assignments.map((a) => [a.key, a.value]));
}

export function metricOf(summary: TrainSummary | null, metric: string): number | null {
  if (summary === null) return null;
  const v = valueAt(summary, metric.split('.'));
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

const STATUS_ORDER: readonly RunStatus[] = ['done', 'running', 'interrupted', 'queued', 'pending', 'stopped', 'failed'];

/** Ranks finished runs by the metric (ties by expansion order), then lists the others by status and order. */
export function summarizeSweep(sweep: string, metric: string, goal: 'max' | 'min', results: readonly RunResult[]): SweepSummary {
  const sign = goal === 'max' ? -1 : 1;
  const records: SweepRunRecord[] = results.map((r) => ({ ...r, rank: null, metric: r.status === 'done' ? metricOf(r.summary, metric) : null }));
  records.sort((a, b) => {
    const sa = STATUS_ORDER.indexOf(a.status);
    const sb = STATUS_ORDER.indexOf(b.status);
    if (sa !== sb) return sa - sb;
    if (a.metric !== null && b.metric !== null && a.metric !== b.metric) return sign * (a.metric - b.metric);
    if ((a.metric === null) !== (b.metric === null)) return a.metric === null ? 1 : -1;
    return a.index - b.index;
  });
  let rank = 0;
  for (const r of records) if (r.status === 'done' && r.metric !== null) r.rank = ++rank;
  const counts = Object.fromEntries(STATUS_ORDER.map((s) => [s, records.filter((r) => r.status === s).length])) as Record<RunStatus, number>;
  return { sweep, metric, goal, counts, best: records.find((r) => r.rank === 1)?.id ?? null, runs: records };
}

export function writeSweepSummary(file: string, summary: SweepSummary): void {
  writeJsonAtomic(file, summary);
}
