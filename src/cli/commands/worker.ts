/** `whetstone worker redis://HOST:PORT`: trains the runs of any sweep enqueued there, until interrupted. */
import { resolve } from 'node:path';
import { InputError } from '../../errors.js';
import { parseRedisUrl } from '../../sweep/queue.js';
import { runWorker } from '../../sweep/worker.js';
import type { CommandContext } from '../context.js';

interface WorkerFlags {
  concurrency?: number;
  out?: string;
  backend?: string;
  lockSeconds?: number;
}

export async function run(args: string[], flags: WorkerFlags, ctx: CommandContext): Promise<void> {
  const { out } = ctx;
  if (args[0] === undefined) throw new InputError('worker needs the queue, e.g. whetstone worker redis://localhost:6379');
  const target = parseRedisUrl(args[0]);
  const outDir = resolve(ctx.cwd, flags.out ?? 'runs/sweeps');
  const controller = new AbortController();
  const stop = () => {
    out.info('stopping: runs in progress are checkpointed and go back to the queue');
    controller.abort();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await runWorker(target, {
      concurrency: flags.concurrency,
      outDir,
      backend: flags.backend,
      lockSeconds: flags.lockSeconds,
      signal: controller.signal,
      events: {
        onReady: () => out.info(`worker ${process.pid} ready on ${args[0]}: ${flags.concurrency ?? 1} run(s) at a time, into ${outDir}`),
        onRunStart: (d, resumed) => out.info(`run ${d.sweep}/${d.run_id}: ${resumed ? 'resuming from its checkpoint' : 'training'}`),
        onRunEnd: (d, o) =>
          out.info(
            `run ${d.sweep}/${d.run_id}: ${o.status === 'done' ? `done, spiking accuracy ${(o.summary.spiking_accuracy * 100).toFixed(2)}%` : o.status === 'interrupted' ? 'interrupted, back to the queue' : `failed: ${'message' in o ? o.message : o.status}`}`,
          ),
      },
    });
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
}
