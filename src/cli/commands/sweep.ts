/**
 * `whetstone sweep SWEEP.yaml` (local, or `--queue URL` to enqueue, or `--matrix` for CI),
 * `whetstone sweep status SWEEP.yaml [--queue URL] [--watch]` and
 * `whetstone sweep collect SWEEP.yaml DIR…`. Parses, calls src/sweep/, prints.
 */
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { InputError, InterruptedError, RuntimeFailure } from '../../errors.js';
import { collectRuns } from '../../sweep/collect.js';
import { SWEEP_HTML, SWEEP_JSON } from '../../sweep/layout.js';
import { loadSweep, type LoadedSweep } from '../../sweep/load.js';
import { runSweepLocally } from '../../sweep/local.js';
import { checkReachable, enqueueSweep, openQueue, parseRedisUrl } from '../../sweep/queue.js';
import { writeSweepReport } from '../../sweep/report.js';
import { isSettled, sweepStatus } from '../../sweep/status.js';
import type { SweepSummary } from '../../sweep/summary.js';
import { formatMetric, statusLine, sweepTable } from '../../sweep/table.js';
import { oneLine } from '../../util/fs-errors.js';
import type { CommandContext } from '../context.js';
import type { Output } from '../output.js';
import { columns } from './compare.js';

interface SweepFlags {
  queue?: string;
  out?: string;
  concurrency?: number;
  backend?: string;
  matrix?: boolean;
  only?: string[];
  watch?: boolean;
  interval?: number;
  json?: boolean;
}

const setText = (set: Record<string, unknown>) =>
  Object.entries(set)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(' ');

function load(file: string | undefined, flags: SweepFlags, ctx: CommandContext, what: string): LoadedSweep {
  if (file === undefined) throw new InputError(`${what} needs a sweep file`);
  return loadSweep(resolve(ctx.cwd, file), file, { cwd: ctx.cwd, outDir: flags.out === undefined ? undefined : resolve(ctx.cwd, flags.out) });
}

/** The ranked table on stdout (or the summary as JSON), and where sweep.json and report.html are. */
async function printSummary(summary: SweepSummary, sweep: LoadedSweep, flags: SweepFlags, out: Output): Promise<void> {
  // A status look at a sweep that never started here writes nothing.
  const report = !existsSync(sweep.dir)
    ? null
    : await writeSweepReport(sweep.dir, summary).catch((e: unknown) => {
        out.warn(`report.html was not written (${oneLine(e)})`);
        return null;
      });
  if (flags.json) out.result(JSON.stringify(summary));
  else {
    const t = sweepTable(summary);
    for (const line of columns(t.header, t.rows, t.numeric)) out.result(line);
  }
  out.info(statusLine(summary));
  if (report !== null) out.info(`${SWEEP_JSON}: ${resolve(sweep.dir, SWEEP_JSON)}\n${SWEEP_HTML}: ${report}`);
}

async function runSweep(args: string[], flags: SweepFlags, ctx: CommandContext): Promise<void> {
  const { out } = ctx;
  if (args.length > 1) throw new InputError(`sweep takes one sweep file, got ${args.length} arguments (for status or collect, put the word first)`);
  const sweep = load(args[0], flags, ctx, 'sweep');
  const only = flags.only !== undefined && flags.only.length > 0 ? flags.only : undefined;
  const known = new Set(sweep.runs.map((r) => r.id));
  const unknown = (only ?? []).filter((id) => !known.has(id));
  if (unknown.length > 0) throw new InputError(`--only ${unknown[0]}: ${args[0]} has no such run (see --matrix for its runs)`);
  if (sweep.dropped > 0) out.warn(`${args[0]}: the sweep has ${sweep.runs.length + sweep.dropped} runs; budget.max_runs keeps the first ${sweep.runs.length}`);

  if (flags.matrix) {
    const file = relative(ctx.cwd, resolve(ctx.cwd, args[0]!)) || args[0]!;
    out.result(JSON.stringify({ include: sweep.runs.map((r) => ({ id: r.id, set: setText(Object.fromEntries(r.assignments.map((a) => [a.key, a.value]))), command: `whetstone sweep ${file} --only ${r.id}` })) }));
    return;
  }

  if (flags.queue !== undefined) {
    const target = parseRedisUrl(flags.queue);
    await checkReachable(target);
    const queue = openQueue(target);
    try {
      const r = await enqueueSweep(queue, sweep, only === undefined ? sweep.runs : sweep.runs.filter((run) => only.includes(run.id)));
      out.result(`${sweep.name}: ${r.added} run(s) enqueued, ${r.retried} failed run(s) retried, ${r.present} already queued or done, on ${flags.queue}`);
      out.info(`follow it with: whetstone sweep status ${args[0]} --queue ${flags.queue} --watch`);
    } finally {
      await queue.close();
    }
    return;
  }

  const controller = new AbortController();
  const onSigint = () => {
    out.info('\ninterrupt: stopping the runs after their batch (each keeps its last epoch checkpointed)');
    controller.abort();
  };
  process.once('SIGINT', onSigint);
  const total = only?.length ?? sweep.runs.length;
  let started = 0;
  try {
    out.info(`sweep ${sweep.name}: ${total} run(s) in ${sweep.dir}`);
    const summary = await runSweepLocally(sweep, {
      concurrency: flags.concurrency,
      backend: flags.backend,
      only,
      signal: controller.signal,
      events: {
        onRunStart: (run, resumed) => out.info(`run ${++started}/${total} ${run.id}: ${resumed ? 'resuming' : 'training'} ${setText(Object.fromEntries(run.assignments.map((a) => [a.key, a.value])))}`),
        onRunEnd: (run, o) => {
          if (o.status === 'done') out.info(`run ${run.id}: done, spiking accuracy ${formatMetric('accuracy', o.summary.spiking_accuracy)}`);
          else if (o.status === 'failed') out.info(`run ${run.id}: failed: ${o.message}`);
          else if (o.status === 'interrupted') out.info(`run ${run.id}: interrupted (checkpointed)`);
        },
        onStop: (d) => out.info(`run ${d.id}: stopping early: ${d.reason}`),
      },
    });
    await printSummary(summary, sweep, flags, out);
    if (controller.signal.aborted) throw new InterruptedError('the sweep was interrupted', `resume it with: whetstone sweep ${args[0]}`);
    if (summary.counts.failed > 0) {
      const first = summary.runs.find((r) => r.status === 'failed')!;
      throw new RuntimeFailure(`${summary.counts.failed} run(s) failed, e.g. ${first.id}: ${first.message}`, `rerun whetstone sweep ${args[0]} to retry them (finished runs are kept)`);
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

async function status(args: string[], flags: SweepFlags, ctx: CommandContext): Promise<void> {
  const { out } = ctx;
  const sweep = load(args[1], flags, ctx, 'sweep status');
  const target = flags.queue === undefined ? undefined : parseRedisUrl(flags.queue);
  if (target !== undefined) await checkReachable(target);
  let summary = await sweepStatus(sweep, target);
  if (flags.watch) {
    let last = '';
    const width = 24;
    // Without a queue nothing moves unless a `sweep` process trains the runs: stop watching once
    // none has been training for two looks in a row (one look may fall between two runs).
    let idle = 0;
    const watching = () => (target !== undefined ? !isSettled(summary) : !isSettled(summary) && (idle = summary.counts.running === 0 ? idle + 1 : 0) < 2);
    while (watching()) {
      const line = statusLine(summary);
      if (out.interactive) {
        const filled = Math.round((summary.counts.done / Math.max(1, summary.runs.length)) * width);
        out.io.stderr.write(`\r\x1b[2K${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${line}`);
      } else if (line !== last) out.info(line);
      last = line;
      await new Promise((r) => setTimeout(r, (flags.interval ?? 2) * 1000));
      summary = await sweepStatus(sweep, target);
    }
    if (out.interactive) out.io.stderr.write('\r\x1b[2K');
  }
  await printSummary(summary, sweep, flags, out);
}

async function collect(args: string[], flags: SweepFlags, ctx: CommandContext): Promise<void> {
  const sweep = load(args[1], flags, ctx, 'sweep collect');
  const dirs = args.slice(2);
  if (dirs.length === 0) throw new InputError('sweep collect needs the sweep file and at least one directory of runs');
  const summary = collectRuns(sweep, dirs.map((d) => resolve(ctx.cwd, d)), dirs);
  await printSummary(summary, sweep, flags, ctx.out);
}

export async function run(args: string[], flags: SweepFlags, ctx: CommandContext): Promise<void> {
  if (args[0] === 'status') return status(args, flags, ctx);
  if (args[0] === 'collect') return collect(args, flags, ctx);
  return runSweep(args, flags, ctx);
}
