/**
 * Where a sweep stands, as a SweepSummary: from the run directories for a local sweep (a live pid
 * file means running), from the queue's jobs for a distributed one (their return values carry the
 * summaries). Either way it is written to the sweep's sweep.json, so the file follows the sweep.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runPaths, SWEEP_JSON } from './layout.js';
import type { LoadedSweep } from './load.js';
import { resultOf } from './local.js';
import { openQueue, queuedResults, type RedisTarget } from './queue.js';
import { isTraining } from './run-child.js';
import { summarizeSweep, writeSweepSummary, type RunResult, type SweepSummary } from './summary.js';

export function localResults(sweep: LoadedSweep): RunResult[] {
  return sweep.runs.map((run) => {
    const result = resultOf(sweep, run, undefined);
    const unfinished = result.status === 'pending' || result.status === 'interrupted';
    return unfinished && isTraining(runPaths(sweep.dir, run.id)) ? { ...result, status: 'running' } : result;
  });
}

/** Reads the sweep's state (from the queue when `target` is given) and writes sweep.json, if the sweep's folder exists. */
export async function sweepStatus(sweep: LoadedSweep, target?: RedisTarget): Promise<SweepSummary> {
  let results: RunResult[];
  if (target === undefined) results = localResults(sweep);
  else {
    const queue = openQueue(target);
    try {
      results = await queuedResults(queue, sweep);
    } finally {
      await queue.close();
    }
  }
  const summary = summarizeSweep(sweep.name, sweep.sweep.metric, sweep.sweep.goal, results);
  if (existsSync(sweep.dir)) writeSweepSummary(join(sweep.dir, SWEEP_JSON), summary);
  return summary;
}

/** Every run has ended one way or another: nothing is running, queued or waiting. */
export function isSettled(summary: SweepSummary): boolean {
  return summary.counts.running + summary.counts.queued + summary.counts.pending + summary.counts.interrupted === 0;
}
