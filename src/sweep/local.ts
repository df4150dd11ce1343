/**
 * A sweep on this machine, no server: N runs at a time, each a `train` child process in the sweep's
 * folder. Rerunning skips finished runs and resumes interrupted ones from their checkpoints (the
 * state lives in the run directories, nothing else). With early stopping, the learning curves of the
 * running runs are read from their metrics.jsonl, and a run that trails is sent SIGINT: it stops
 * after its batch with its last epoch checkpointed, and is recorded as stopped early.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { runsToStop, type Curve, type StopDecision } from './early-stop.js';
import { runPaths, SWEEP_JSON } from './layout.js';
import type { LoadedSweep, SweepRun } from './load.js';
import { endedOnDisk, runChild, runStateOnDisk, type RunOutcome } from './run-child.js';
import { assignmentsObject, summarizeSweep, writeSweepSummary, type RunResult, type SweepSummary } from './summary.js';

export interface LocalSweepOptions {
  /** Runs at a time. Defaults to budget.max_concurrent, else the cores divided by each run's gradient workers. */
  readonly concurrency?: number;
  readonly backend?: string;
  /** Only these run ids (a CI job running one run of a matrix). */
  readonly only?: readonly string[];
  readonly signal?: AbortSignal;
  readonly events?: LocalSweepEvents;
}

export interface LocalSweepEvents {
  onRunStart?(run: SweepRun, resumed: boolean): void;
  onRunEnd?(run: SweepRun, outcome: RunOutcome): void;
  onStop?(decision: StopDecision): void;
}

/** How often the curves of running runs are read for early stopping. */
const POLL_MS = 250;

/**
 * A CNN trains on every core by itself (train/parallel.ts's defaultWorkers: one gradient worker per
 * core); a dense network trains on one. Running more CNN runs at a time would only share the cores.
 */
export function defaultConcurrency(sweep: LoadedSweep, cores = availableParallelism()): number {
  const convolutional = sweep.runs.some((r) => r.config.model.layers.some((l) => l.type === 'conv2d'));
  return Math.max(1, sweep.sweep.budget.max_concurrent ?? (convolutional ? 1 : cores));
}

/** The spiking validation accuracy of each epoch a run has finished so far. */
export function curveOf(runDir: string): Curve {
  const file = join(runDir, 'metrics.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => {
      try {
        return [(JSON.parse(l) as { spiking_val_accuracy: number | null }).spiking_val_accuracy];
      } catch {
        return []; // a line being written
      }
    });
}

/** A run's line before ranking; without an outcome (not run by this process), what its directory says. */
export function resultOf(sweep: LoadedSweep, run: SweepRun, given: RunOutcome | undefined): RunResult {
  const { runDir } = runPaths(sweep.dir, run.id);
  const outcome = given ?? endedOnDisk(runDir);
  const base = { id: run.id, index: run.index, set: assignmentsObject(run.assignments), run_dir: existsSync(runDir) ? runDir : null, summary: null };
  if (outcome === undefined) return { ...base, status: runStateOnDisk(runDir) === 'interrupted' ? 'interrupted' : 'pending' };
  switch (outcome.status) {
    case 'done':
      return { ...base, status: 'done', summary: outcome.summary };
    case 'stopped':
      return { ...base, status: 'stopped', message: outcome.reason, stopped_at_epoch: outcome.epoch };
    case 'failed':
      return { ...base, status: 'failed', message: outcome.message };
    case 'interrupted':
      return { ...base, status: 'interrupted' };
  }
}

export async function runSweepLocally(sweep: LoadedSweep, opts: LocalSweepOptions = {}): Promise<SweepSummary> {
  const runs = opts.only === undefined ? sweep.runs : sweep.runs.filter((r) => opts.only!.includes(r.id));
  const concurrency = Math.max(1, opts.concurrency ?? defaultConcurrency(sweep));
  const outcomes = new Map<string, RunOutcome>();
  const active = new Map<string, { child?: ChildProcess; stop?: StopDecision }>();
  const rule = sweep.sweep.early_stopping;

  const onAbort = () => {
    for (const a of active.values()) a.child?.kill('SIGINT');
  };
  opts.signal?.addEventListener('abort', onAbort);
  const poll =
    rule === undefined
      ? undefined
      : setInterval(() => {
          const curves = new Map(sweep.runs.map((r) => [r.id, curveOf(runPaths(sweep.dir, r.id).runDir)] as const));
          const candidates = [...active.entries()].filter(([, a]) => a.child !== undefined && a.stop === undefined).map(([id]) => id);
          for (const decision of runsToStop(curves, candidates, rule)) {
            const a = active.get(decision.id)!;
            a.stop = decision;
            opts.events?.onStop?.(decision);
            a.child!.kill('SIGINT');
          }
        }, POLL_MS);

  let next = 0;
  const slot = async (): Promise<void> => {
    while (next < runs.length && opts.signal?.aborted !== true) {
      const run = runs[next++]!;
      const paths = runPaths(sweep.dir, run.id);
      const state = runStateOnDisk(paths.runDir);
      const entry: { child?: ChildProcess; stop?: StopDecision } = {};
      if (state !== 'done' && state !== 'stopped') {
        active.set(run.id, entry);
        opts.events?.onRunStart?.(run, state === 'interrupted');
      }
      const outcome = await runChild(paths, run.yaml, {
        backend: opts.backend,
        onSpawn: (child) => (entry.child = child),
        stopReason: () => (entry.stop === undefined ? undefined : { epoch: entry.stop.epoch, reason: entry.stop.reason }),
      });
      active.delete(run.id);
      outcomes.set(run.id, outcome);
      if (state !== 'done' && state !== 'stopped') opts.events?.onRunEnd?.(run, outcome);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, runs.length) }, slot));
  } finally {
    if (poll !== undefined) clearInterval(poll);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  const summary = summarizeSweep(sweep.name, sweep.sweep.metric, sweep.sweep.goal, sweep.runs.map((r) => resultOf(sweep, r, outcomes.get(r.id))));
  writeSweepSummary(join(sweep.dir, SWEEP_JSON), summary);
  return summary;
}
