/**
 * One sweep run as a child process: `whetstone train` of the run's config into the run's own
 * directory, or `train --resume` when that directory holds a checkpoint. Training in a child keeps a
 * crash, a memory leak or a Ctrl-C of one run from touching the others, and the child dies with its
 * parent (WHETSTONE_EXIT_WITH_PARENT), so a killed worker never leaves a run training behind.
 * Local sweeps and queue workers both run their runs through here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TrainSummary } from '../train/summary.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';

/** Where a run lives on disk. */
export interface RunPaths {
  readonly id: string;
  /** The run directory (a normal `train` run directory once it has started). */
  readonly runDir: string;
  /** The config the run trains, written before it starts. */
  readonly configFile: string;
  /** The child's stderr, appended across resumes. */
  readonly logFile: string;
  /** The pid of the child training the run, while it trains (`sweep status` says "running"). */
  readonly pidFile: string;
}

export type RunOutcome =
  | { readonly status: 'done'; readonly summary: TrainSummary }
  | { readonly status: 'stopped'; readonly epoch: number; readonly reason: string }
  | { readonly status: 'failed'; readonly message: string; readonly exitCode: number | null }
  | { readonly status: 'interrupted' };

/** Written into a run directory that the sweep stopped early, so that a rerun leaves it stopped. */
export const STOPPED_FILE = 'sweep-stopped.json';

export interface RunChildOptions {
  readonly backend?: string;
  readonly workers?: number;
  /** Called once the child is running: the local runner keeps it to stop the run early. */
  readonly onSpawn?: (child: ChildProcess) => void;
  /** Set by the caller before it interrupts the child to stop the run early. */
  readonly stopReason?: () => { epoch: number; reason: string } | undefined;
}

/** Node and the launcher of this very installation, so a child trains with the same code. */
const LAUNCHER = fileURLToPath(new URL('../../bin/whetstone.js', import.meta.url));

const hasCheckpoint = (runDir: string) => ['checkpoint', '.checkpoint.old'].some((d) => existsSync(join(runDir, d, 'state.json')));

export function readSummary(runDir: string): TrainSummary | undefined {
  const file = join(runDir, 'summary.json');
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as TrainSummary;
  } catch {
    return undefined;
  }
}

export function readStopped(runDir: string): { epoch: number; reason: string } | undefined {
  const file = join(runDir, STOPPED_FILE);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { epoch: number; reason: string }) : undefined;
}

/** How a run ended, if its directory says it has: a summary, or stopped early. */
export function endedOnDisk(runDir: string): RunOutcome | undefined {
  const summary = readSummary(runDir);
  if (summary !== undefined) return { status: 'done', summary };
  const stopped = readStopped(runDir);
  return stopped === undefined ? undefined : { status: 'stopped', ...stopped };
}

/** A child is training the run now (its pid file names a live process). */
export function isTraining(paths: RunPaths): boolean {
  if (!existsSync(paths.pidFile)) return false;
  try {
    process.kill(Number(readFileSync(paths.pidFile, 'utf8')), 0);
    return true;
  } catch {
    return false;
  }
}

/** Where a run stands on disk: ended (a summary), stopped early, interrupted (a checkpoint), or not started. */
export function runStateOnDisk(runDir: string): 'done' | 'stopped' | 'interrupted' | 'pending' {
  if (readSummary(runDir) !== undefined) return 'done';
  if (readStopped(runDir) !== undefined) return 'stopped';
  return hasCheckpoint(runDir) ? 'interrupted' : 'pending';
}

/** The last `error …` line the child printed: what a failed run's record says. */
function lastError(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => /^error /.test(l));
  return lines.at(-1)?.replace(/^error /, '') ?? (stderr.trim().split('\n').at(-1) ?? 'the run failed');
}

/**
 * Trains (or resumes, or skips) one run and says how it ended. A run that exists without a
 * checkpoint died before its first epoch ended: it starts again from nothing.
 */
export async function runChild(paths: RunPaths, yaml: string, opts: RunChildOptions = {}): Promise<RunOutcome> {
  const ended = endedOnDisk(paths.runDir);
  if (ended !== undefined) return ended;

  let args: string[];
  if (hasCheckpoint(paths.runDir)) args = ['train', '--resume', paths.runDir];
  else {
    rmSync(paths.runDir, { recursive: true, force: true });
    mkdirSync(dirname(paths.configFile), { recursive: true });
    writeFileAtomic(paths.configFile, yaml);
    args = ['train', paths.configFile, '--run-dir', paths.runDir];
  }
  if (opts.backend !== undefined) args.push('--backend', opts.backend);
  if (opts.workers !== undefined) args.push('--workers', String(opts.workers));
  mkdirSync(dirname(paths.logFile), { recursive: true });
  appendFileSync(paths.logFile, `$ whetstone ${args.join(' ')}\n`);

  const child = spawn(process.execPath, [LAUNCHER, ...args], {
    env: { ...process.env, CI: 'true', WHETSTONE_EXIT_WITH_PARENT: '1' },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    appendFileSync(paths.logFile, d);
  });
  opts.onSpawn?.(child);
  mkdirSync(dirname(paths.pidFile), { recursive: true });
  writeFileAtomic(paths.pidFile, String(child.pid));
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done, fail) => {
    child.once('error', fail);
    child.once('exit', (c, s) => done({ code: c, signal: s }));
  }).finally(() => rmSync(paths.pidFile, { force: true }));
  // Exit code 1 with a summary: the run ended but sharpening did not finish; it is a result all the same.
  const summary = readSummary(paths.runDir);
  if (summary !== undefined) return { status: 'done', summary };
  const stop = opts.stopReason?.();
  if (stop !== undefined) {
    writeJsonAtomic(join(paths.runDir, STOPPED_FILE), stop);
    return { status: 'stopped', ...stop };
  }
  if (code === 130 || signal === 'SIGINT' || signal === 'SIGTERM') return { status: 'interrupted' };
  return { status: 'failed', message: lastError(stderr), exitCode: code };
}
