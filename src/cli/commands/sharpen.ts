/**
 * `whetstone sharpen <model.json | model.onnx | model.keras | model.h5> --data <dataset | config.yaml>`: parses options, calls
 * sharpenModel, shows progress on stderr and, on stdout, one table with what spiking cost.
 */
import { resolve } from 'node:path';
import type { BackendName } from '../../backend/index.js';
import { resolveRequestedBackend } from '../../backend/index.js';
import { sharpenModel, type ScheduleName, type SharpenEvents, type SharpenResult } from '../../train/cross-train.js';
import type { CommandContext } from '../context.js';
import { RunSession } from '../run-session.js';

interface SharpenFlags {
  /** Required by commander (requiredOption). */
  data?: string;
  schedule?: ScheduleName;
  epochs?: number;
  keyWidth?: number;
  out?: string;
  backend?: BackendName;
  limit?: number;
  workers?: number;
  json?: boolean;
}

const pct = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? '   n/a' : `${(v * 100).toFixed(2)}%`);
const int = (v: number) => Math.round(v).toLocaleString('en-US');

/** The result: where the run is, and the accuracy of each stage from the source model to the simulator. */
export function sharpenLines(r: SharpenResult): string[] {
  const s = r.summary;
  const src = r.source;
  const points = (v: number) => {
    const d = (v - src.accuracy) * 100;
    return `${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(2)} points against the original`;
  };
  const rows: [string, number | null, string][] = [
    ['original model', src.accuracy, `${src.format} ${src.class_name}, ${int(src.parameters)} parameters`],
    ['rewritten, before fine-tuning', src.converted_accuracy, 'smooth activations'],
    ['fine-tuned, before sharpening', s.unsharpened_accuracy, s.unsharpened_accuracy === null ? 'sharpening began in epoch 1' : ''],
    ['spiking (tfjs)', s.spiking_accuracy, points(s.spiking_accuracy)],
    ['spiking (simulator)', s.snn.accuracy, s.snn.agrees_with_tfjs ? 'the same class as tfjs for every image' : 'DIFFERS from tfjs on some images'],
  ];
  const width = Math.max(...rows.map((row) => row[0].length));
  return [
    `run         ${r.runDir}`,
    `source      ${src.path}`,
    `epochs      ${s.epochs} of ${s.max_epochs}${s.sharpening_finished ? '' : ' (sharpening did not finish)'}`,
    `accuracy on ${int(s.test_images)} test images of ${s.dataset}:`,
    ...rows.map(([label, value, note]) => `  ${label.padEnd(width)}  ${pct(value).padStart(7)}${note === '' ? '' : `  ${note}`}`),
    `simulator   ${int(s.snn.synaptic_events_per_inference)} synaptic events vs ${int(s.snn.ann_macs_per_inference)} ANN MACs per image, latency ${s.snn.latency_steps} steps`,
    `time        ${s.wall_seconds.toFixed(1)} s (${Math.round(s.images_per_second)} images/s training on ${s.backend})`,
  ];
}

export async function run(args: string[], flags: SharpenFlags, ctx: CommandContext): Promise<void> {
  const { out } = ctx;
  const modelPath = args[0]!;
  const backend = resolveRequestedBackend(flags.backend, ctx.io.env);
  const session = new RunSession(out, 'sharpening');
  try {
    const result = await sharpenModel(
      modelPath,
      {
        data: flags.data!,
        schedule: flags.schedule,
        epochs: flags.epochs,
        keyWidth: flags.keyWidth,
        outDir: flags.out === undefined ? undefined : resolve(ctx.cwd, flags.out),
        backend,
        limit: flags.limit,
        workers: flags.workers,
        signal: session.signal,
        command: ['sharpen', ...args],
        cwd: ctx.cwd,
      },
      session.events<SharpenEvents>({
        onWarning: (text) => out.warn(text),
        onSource: (src) => {
          session.endStatus();
          out.info(`source: ${src.path} (${src.format} ${src.class_name}, ${int(src.parameters)} parameters): ${pct(src.accuracy)} on the test split; rewritten, before fine-tuning: ${pct(src.converted_accuracy)}`);
        },
      }),
    );
    session.finish();
    if (flags.json) out.result(JSON.stringify({ run_dir: result.runDir, ...result.summary }));
    else for (const line of sharpenLines(result)) out.result(line);
  } catch (e) {
    session.fail();
    throw e;
  } finally {
    session.close();
  }
}
