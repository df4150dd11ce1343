/** `whetstone train`: parses options, calls trainExperiment, shows progress on stderr and the result on stdout. */
import { resolve } from 'node:path';
import type { BackendName } from '../../backend/index.js';
import { resolveRequestedBackend } from '../../backend/index.js';
import { parseOverride } from '../../config/loader.js';
import { InputError } from '../../errors.js';
import { checkGates, GateFailedError, parseGates, SUMMARY_KEYS, trainExperiment, type EpochMetrics, type TrainSummary } from '../../train/index.js';
import type { CommandContext } from '../context.js';
import type { Output, Status } from '../output.js';
import { oneLine } from '../../util/fs-errors.js';
import { epochLine, ProgressBar } from '../progress.js';

interface TrainFlags {
  out?: string;
  backend?: BackendName;
  epochs?: number;
  limit?: number;
  workers?: number;
  resume?: string;
  set?: string[];
  assert?: string[];
  json?: boolean;
}

const pct = (v: number | null) => (v === null ? 'n/a' : `${(v * 100).toFixed(2)}%`);

export function summaryLines(s: TrainSummary, runDir: string): string[] {
  return [
    `run         ${runDir}`,
    `epochs      ${s.epochs} of ${s.max_epochs}${s.sharpening_finished ? '' : ' (sharpening did not finish)'}`,
    `accuracy    unsharpened ${pct(s.unsharpened_accuracy)} → spiking ${pct(s.spiking_accuracy)} on ${s.test_images} test images`,
    `simulator   ${pct(s.snn.accuracy)}, ${s.snn.agrees_with_tfjs ? 'the same class as tfjs for every image' : 'DIFFERS from tfjs on some images'}; ${Math.round(s.snn.synaptic_events_per_inference).toLocaleString('en-US')} synaptic events vs ${Math.round(s.snn.ann_macs_per_inference).toLocaleString('en-US')} ANN MACs per image`,
    `time        ${s.wall_seconds.toFixed(1)} s (${Math.round(s.images_per_second)} images/s training on ${s.backend})`,
  ];
}

/**
 * Renders the run's report after training. A report that cannot be written must not cost the trained
 * run: it is a warning on stderr with the command to retry, never an error. Returns report.html's path.
 */
export async function reportAfterTraining(runDir: string, out: Output): Promise<string | null> {
  try {
    const { writeReport } = await import('../../report/index.js');
    return (await writeReport(runDir)).html;
  } catch (e) {
    out.warn(`the report was not written (${oneLine(e)}); the run itself is complete. Retry with: whetstone report ${runDir}`);
    return null;
  }
}

export async function run(args: string[], flags: TrainFlags, ctx: CommandContext): Promise<void> {
  const { out } = ctx;
  const configPath = args[0] === undefined ? undefined : resolve(ctx.cwd, args[0]);
  const backend = resolveRequestedBackend(flags.backend, ctx.io.env);
  // Checked before anything trains: a typo in a gate or an override should cost seconds.
  const gates = parseGates(flags.assert ?? [], SUMMARY_KEYS);
  const overrides = (flags.set ?? []).map(parseOverride);
  if (flags.resume !== undefined && overrides.length > 0) {
    throw new InputError('--set cannot change a run being resumed (its config.yaml is fixed); use --epochs to extend it');
  }
  const controller = new AbortController();
  const onSigint = () => {
    out.info('\ninterrupt: stopping after this batch (the last completed epoch is checkpointed)');
    controller.abort();
  };
  process.once('SIGINT', onSigint);
  const bar = new ProgressBar(out);
  // A spinner for the phases between epochs (loading data, final evaluation) on a TTY; plain lines elsewhere.
  let status: Status | undefined;
  const endStatus = () => {
    status?.succeed(lastPhase);
    status = undefined;
  };
  let lastPhase = '';
  let reportPath: string | null = null;
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
        signal: controller.signal,
        command: ['train', ...args],
        overrides,
      },
      {
        onBackend: (info) =>
          out.info(`backend: ${info.name}${info.fallbackReason ? ` (${info.fallbackReason})` : ''}`),
        onStart: (s) => {
          endStatus();
          out.info(
            `${s.resumedFromEpoch > 0 ? `resuming at epoch ${s.resumedFromEpoch + 1}` : 'training'} ${s.config.name}: ${s.trainCount} train / ${s.validationCount} validation / ${s.testCount} test images, ${s.parameters.toLocaleString('en-US')} parameters, ${s.spikingLayers} spiking layers, up to ${s.config.training.epochs} epochs`,
          );
          out.info(`run directory: ${s.runDir}`);
        },
        onBatch: (p) => {
          endStatus();
          bar.update(p);
        },
        onEpoch: (m: EpochMetrics) => {
          bar.clear();
          out.info(epochLine(m, out));
        },
        onPhase: (text) => {
          bar.clear();
          endStatus();
          lastPhase = text;
          status = out.status(text);
        },
        onWritten: async (dir) => {
          endStatus();
          lastPhase = 'writing the report';
          status = out.status(lastPhase);
          reportPath = await reportAfterTraining(dir, out);
        },
      },
    );
    endStatus();
    if (reportPath !== null) out.info(`report: ${reportPath}`);
    if (flags.json) out.result(JSON.stringify({ run_dir: result.runDir, ...result.summary }));
    else for (const line of summaryLines(result.summary, result.runDir)) out.result(line);
    const failed = checkGates(gates, result.summary).filter((r) => !r.passed);
    if (failed.length > 0) {
      throw new GateFailedError(failed.map((r) => `gate failed: ${r.gate.text} (${r.gate.key} = ${JSON.stringify(r.actual)})`).join('\n'));
    }
    if (gates.length > 0) out.info(`gates passed: ${gates.map((g) => g.text).join(', ')}`);
  } catch (e) {
    status?.fail(lastPhase);
    status = undefined;
    throw e;
  } finally {
    bar.clear();
    process.removeListener('SIGINT', onSigint);
  }
}
