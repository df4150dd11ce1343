/**
 * The distributed sweep's side of BullMQ: where Redis is, the one queue every sweep's runs go into,
 * and the producer. A run's job id is `<sweep>.<run id>`, deterministic, so enqueuing a sweep twice
 * adds nothing twice, and a run's summary (the job's return value) is recorded exactly once, however
 * many workers touched the run.
 */
import { Queue, type ConnectionOptions, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { InputError } from '../errors.js';
import { oneLine } from '../util/fs-errors.js';
import type { LoadedSweep, SweepRun } from './load.js';
import { assignmentsObject, type RunResult } from './summary.js';
import type { TrainSummary } from '../train/summary.js';

/** Every sweep shares one queue: a worker serves whatever sweep is enqueued. */
export const QUEUE_NAME = 'whetstone-runs';
/** Giving up on an unreachable server after this long keeps a typo in a URL from hanging a command. */
const CONNECT_TIMEOUT_MS = 3000;

/** What a job carries: everything a worker needs to train the run, without the sweep file. */
export interface RunJobData {
  sweep: string;
  run_id: string;
  index: number;
  set: Record<string, unknown>;
  /** The run's resolved experiment config. */
  yaml: string;
}

/** A job's return value: the run's summary, sent back through the queue. */
export interface RunJobResult {
  run_id: string;
  summary: TrainSummary;
  /** Where the worker wrote the run, on the worker's machine. */
  run_dir: string;
  worker: string;
}

export interface RedisTarget {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly password?: string;
  readonly username?: string;
  readonly db?: number;
  readonly tls: boolean;
}

/** Parses `redis://[user:password@]HOST[:PORT][/DB]` (or rediss://). Throws InputError. */
export function parseRedisUrl(url: string): RedisTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InputError(`${url}: not a Redis URL (expected redis://HOST:PORT)`);
  }
  if ((u.protocol !== 'redis:' && u.protocol !== 'rediss:') || u.hostname === '') throw new InputError(`${url}: not a Redis URL (expected redis://HOST:PORT)`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  if (db !== undefined && !Number.isInteger(db)) throw new InputError(`${url}: the database after the port must be a number`);
  return {
    url,
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port === '' ? 6379 : Number(u.port),
    password: u.password === '' ? undefined : decodeURIComponent(u.password),
    username: u.username === '' ? undefined : decodeURIComponent(u.username),
    db,
    tls: u.protocol === 'rediss:',
  };
}

function baseOptions(t: RedisTarget) {
  return { host: t.host, port: t.port, password: t.password, username: t.username, db: t.db, ...(t.tls ? { tls: {} } : {}), connectTimeout: CONNECT_TIMEOUT_MS };
}

/**
 * Connects once, without retries, and answers within seconds: an InputError naming the URL when
 * the server cannot be reached. Commands call this before anything else touches the queue.
 */
export async function checkReachable(t: RedisTarget): Promise<void> {
  const redis = new Redis({ ...baseOptions(t), lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  let lastError: unknown;
  redis.on('error', (e) => (lastError = e));
  try {
    await redis.connect();
    await redis.ping();
  } catch (e) {
    throw new InputError(`${t.url}: cannot reach Redis (${oneLine(lastError ?? e)})`, 'start redis-server there, or check the host and port');
  } finally {
    redis.disconnect();
  }
}

/**
 * Connection options for BullMQ once the server answered. Workers block on Redis, so BullMQ needs
 * `maxRetriesPerRequest: null`; reconnecting with backoff lets a worker outlive a Redis restart.
 */
export function connectionOptions(t: RedisTarget): ConnectionOptions {
  return { ...baseOptions(t), maxRetriesPerRequest: null, retryStrategy: (times: number) => Math.min(times * 500, 5000) };
}

export function jobId(sweep: string, runId: string): string {
  return `${sweep}.${runId}`;
}

export function openQueue(t: RedisTarget): Queue<RunJobData, RunJobResult> {
  return new Queue<RunJobData, RunJobResult>(QUEUE_NAME, { connection: connectionOptions(t) });
}

export interface EnqueueResult {
  added: number;
  /** Failed runs given another try. */
  retried: number;
  /** Already queued, running or done. */
  present: number;
}

/** Adds the sweep's runs that the queue does not hold yet, and retries its failed ones. */
export async function enqueueSweep(queue: Queue<RunJobData, RunJobResult>, sweep: LoadedSweep, runs: readonly SweepRun[] = sweep.runs): Promise<EnqueueResult> {
  const result: EnqueueResult = { added: 0, retried: 0, present: 0 };
  const fresh: SweepRun[] = [];
  for (const run of runs) {
    const job = await queue.getJob(jobId(sweep.name, run.id));
    if (job === undefined) fresh.push(run);
    else if ((await job.getState()) === 'failed') {
      await job.retry('failed');
      result.retried++;
    } else result.present++;
  }
  await queue.addBulk(
    fresh.map((run) => ({
      name: sweep.name,
      data: { sweep: sweep.name, run_id: run.id, index: run.index, set: assignmentsObject(run.assignments), yaml: run.yaml },
      opts: { jobId: jobId(sweep.name, run.id), removeOnComplete: false, removeOnFail: false },
    })),
  );
  result.added = fresh.length;
  return result;
}

/** What the queue says about each run of a sweep. */
export async function queuedResults(queue: Queue<RunJobData, RunJobResult>, sweep: LoadedSweep): Promise<RunResult[]> {
  return Promise.all(
    sweep.runs.map(async (run): Promise<RunResult> => {
      const base = { id: run.id, index: run.index, set: assignmentsObject(run.assignments), run_dir: null, summary: null };
      const job = (await queue.getJob(jobId(sweep.name, run.id))) as Job<RunJobData, RunJobResult> | undefined;
      if (job === undefined) return { ...base, status: 'pending' };
      const state = await job.getState();
      if (state === 'completed') return { ...base, status: 'done', summary: job.returnvalue.summary, run_dir: job.returnvalue.run_dir };
      if (state === 'failed') return { ...base, status: 'failed', message: job.failedReason };
      if (state === 'active') return { ...base, status: 'running' };
      return { ...base, status: 'queued' };
    }),
  );
}
