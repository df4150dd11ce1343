/** `whetstone train`: parses options, calls trainExperiment, shows progress on stderr and the result on stdout. */
import { resolve } from 'node:path';
import type { BackendName } from '../../backend/index.js';
import { resolveRequestedBackend } from '../../backend/index.js';
import { parseOverride } from '../../config/loader.js';
import { InputError } from '../../errors.js';
import { checkGates, GateFailedError, parseGates, SUMMARY_KEYS, trainExperiment, type EpochMetrics, type TrainSummary } from '../../train/index.js';
import type { CommandContext } from '../context.js';
import { UsageError } from '../exit.js';
import { exitWithParent } from '../parent-link.js';
import { RunSession } from '../run-session.js';
import { duration, int, pct } from '../../util/format.js';

interface TrainFlags {
  out?: string;
  backend?: BackendName;
  epochs?: number;
  limit?: number;
  workers?: number;
  resume?: string;
  from?: string;
  runDir?: string;
  set?: string[];
  assert?: string[];
  json?: boolean;
}


/** Both times, labelled, in the report's format: the whole run, and the training epochs within it (the report's card). */
export function timeLine(s: Pick<TrainSummary, 'wall_seconds' | 'train_seconds' | 'images_per_second' | 'backend'>): string {
  return `time        ${duration(s.wall_seconds)} for the whole run; training ${duration(s.train_seconds)} of it (${int(s.images_per_second)} images/s on ${s.backend})`;
}

export function summaryLines(s: TrainSummary, runDir: string): string[] {
  return [
    `run         ${runDir}`,
    `epochs      ${s.epochs} of ${s.max_epochs}${s.sharpening_finished ? '' : ' (sharpening did not finish)'}`,
    `accuracy    unsharpened ${pct(s.unsharpened_accuracy)} → spiking ${pct(s.spiking_accuracy)} on ${int(s.test_images)} test images`,
    `simulator   ${pct(s.snn.accuracy)}, ${s.snn.agrees_with_tfjs ? 'the same class as tfjs for every image' : 'DIFFERS from tfjs on some images'}; ${int(s.snn.synaptic_events_per_inference)} synaptic events vs ${int(s.snn.ann_macs_per_inference)} ANN MACs per image`,
    timeLine(s),
  ];
}

export async function run(args: string[], flags: TrainFlags, ctx: CommandContext): Promise<void> {
  const { out } = ctx;
  const configPath = args[0] === undefined ? undefined : resolve(ctx.cwd, args[0]);
  if (configPath === undefined && flags.resume === undefined && flags.from === undefined) {
    throw new UsageError('train needs an experiment config (or --resume <run-dir>)', `${ctx.usage}   (or: whetstone train --resume <run-dir>)`);
  }
  const backend = resolveRequestedBackend(flags.backend, ctx.io.env);
  // Checked before anything trains: a typo in a gate or an override should cost seconds.
  const gates = parseGates(flags.assert ?? [], SUMMARY_KEYS);
  const overrides = (flags.set ?? []).map(parseOverride);
  if (flags.resume !== undefined && overrides.length > 0) {
    throw new InputError('--set cannot change a run being resumed (its config.yaml is fixed); use --epochs to extend it');
  }
  if (flags.from !== undefined && (flags.resume !== undefined || configPath === undefined)) {
    throw new InputError('--from starts a new run of a config from another run\'s checkpoint: give a config, and no --resume');
  }
  if (flags.runDir !== undefined && (flags.resume !== undefined || flags.from !== undefined || configPath === undefined)) {
    throw new InputError('--run-dir names the directory of a new run: give a config, and no --resume or --from');
  }
  if (ctx.io.env.WHETSTONE_EXIT_WITH_PARENT === '1') exitWithParent();
  const session = new RunSession(out, 'training');
  try {
    const result = await trainExperiment(
      configPath,
      {
        outDir: flags.out === undefined ? undefined : resolve(ctx.cwd, flags.out),
        backend,
        epochs: flags.epochs,
        limit: flags.limit,
        workers: flags.workers,
        resume: flags.resume === undefined ? undefined : resolve(ctx.cwd, flags.resume),
        from: flags.from === undefined ? undefined : resolve(ctx.cwd, flags.from),
        runDir: flags.runDir === undefined ? undefined : resolve(ctx.cwd, flags.runDir),
        signal: session.signal,
        command: ['train', ...args],
        overrides,
      },
      session.events(),
    );
    session.finish();
    if (flags.json) out.result(JSON.stringify({ run_dir: result.runDir, ...result.summary }));
    else for (const line of summaryLines(result.summary, result.runDir)) out.result(line);
    const failed = checkGates(gates, result.summary).filter((r) => !r.passed);
    if (failed.length > 0) {
      throw new GateFailedError(failed.map((r) => `gate failed: ${r.gate.text} (${r.gate.key} = ${JSON.stringify(r.actual)})`).join('\n'));
    }
    if (gates.length > 0) out.info(`gates passed: ${gates.map((g) => g.text).join(', ')}`);
  } catch (e) {
    session.fail();
    throw e;
  } finally {
    session.close();
  }
}
