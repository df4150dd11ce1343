/**
 * `whetstone worker`: takes runs from the queue, trains each as a child process into
 * `<out>/<sweep>/runs/<id>` and returns the run's summary as the job's result.
 *
 * A worker that dies loses nothing: it holds a lock on each job it runs, renewed every half
 * `lockDuration` from this process (training happens in the child, so the renewal never waits on
 * it). When the lock lapses, BullMQ's stalled-job check (every `stalledInterval`, by any worker)
 * puts the job back in the queue and another worker takes it; if `--out` is shared, it finds the
 * run's checkpoint and resumes it, otherwise it starts the run afresh.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { formatProblem, parseExperiment } from '../config/loader.js';
import { runPaths } from './layout.js';
import { checkReachable, connectionOptions, QUEUE_NAME, type RedisTarget, type RunJobData, type RunJobResult } from './queue.js';
import { runChild, type RunOutcome } from './run-child.js';
import type { ChildProcess } from 'node:child_process';

export interface WorkerOptions {
  /** Runs trained at the same time. Defaults to 1. */
  readonly concurrency?: number;
  /** Where sweeps' folders go. */
  readonly outDir: string;
  readonly backend?: string;
  /**
   * Seconds a job stays locked without a renewal before another worker may take it. Defaults to 10:
   * renewals come from an idle event loop, so a short lock costs nothing and a dead worker's run is
   * given to another within seconds (BullMQ's own default, 30 s, would leave it waiting longer).
   */
  readonly lockSeconds?: number;
  readonly signal?: AbortSignal;
  readonly events?: WorkerEvents;
}

export interface WorkerEvents {
  onReady?(): void;
  onRunStart?(data: RunJobData, resumed: boolean): void;
  onRunEnd?(data: RunJobData, outcome: RunOutcome | { status: 'invalid'; message: string }): void;
}

/** A run may stall this many times (its worker died) before it is failed rather than given out again. */
const MAX_STALLED = 5;

export async function runWorker(target: RedisTarget, opts: WorkerOptions): Promise<void> {
  await checkReachable(target);
  const lockMs = Math.round((opts.lockSeconds ?? 10) * 1000);
  const children = new Set<ChildProcess>();
  const name = `${hostname()}:${process.pid}`;

  const processor = async (job: Job<RunJobData, RunJobResult>, token?: string): Promise<RunJobResult> => {
    const data = job.data;
    // A run is validated here too: the worker may run other code than the producer did.
    const checked = parseExperiment(data.yaml, `${data.sweep}/${data.run_id}`);
    if (checked.config === undefined) {
      const message = checked.errors.map(formatProblem).join('; ');
      opts.events?.onRunEnd?.(data, { status: 'invalid', message });
      throw new UnrecoverableError(message);
    }
    const paths = runPaths(join(opts.outDir, data.sweep), data.run_id);
    let resumed = false;
    const outcome = await runChild(paths, data.yaml, {
      backend: opts.backend,
      onSpawn: (child) => {
        children.add(child);
        child.once('exit', () => children.delete(child));
        resumed = child.spawnargs.includes('--resume');
        opts.events?.onRunStart?.(data, resumed);
      },
    });
    opts.events?.onRunEnd?.(data, outcome);
    switch (outcome.status) {
      case 'done':
        return { run_id: data.run_id, summary: outcome.summary, run_dir: paths.runDir, worker: name };
      case 'interrupted':
        // This worker is stopping: the run goes back to the queue for another (or this one, later).
        await job.moveToWait(token);
        throw new WaitingError();
      case 'stopped':
        throw new UnrecoverableError(`stopped early: ${outcome.reason}`);
      case 'failed':
        throw new UnrecoverableError(outcome.message);
    }
  };

  const worker = new Worker<RunJobData, RunJobResult>(QUEUE_NAME, processor, {
    connection: connectionOptions(target),
    concurrency: opts.concurrency ?? 1,
    lockDuration: lockMs,
    stalledInterval: Math.max(500, Math.round(lockMs / 2)),
    maxStalledCount: MAX_STALLED,
    autorun: false,
  });
  worker.on('error', () => {}); // connection errors are retried by ioredis; a job's error is its failedReason
  const stop = () => {
    for (const c of children) c.kill('SIGINT');
    void worker.close();
  };
  opts.signal?.addEventListener('abort', stop, { once: true });
  try {
    const running = worker.run();
    await worker.waitUntilReady();
    opts.events?.onReady?.();
    await running;
  } finally {
    opts.signal?.removeEventListener('abort', stop);
    await worker.close();
  }
}
