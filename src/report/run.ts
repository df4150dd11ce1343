/**
 * Reads a run directory (docs/run-directory.md) for the report: config.yaml, metadata.json and
 * metrics.jsonl are required; summary.json and evaluation.json exist once a run has ended (an
 * interrupted run has neither, and its report shows training only). Every file is checked against
 * the shape the report reads, so a damaged file is one InputError line naming it. No tfjs here:
 * the report is rendered from these files alone.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { loadExperiment } from '../config/loader.js';
import type { ExperimentConfig } from '../config/schema.js';
import { InputError } from '../errors.js';
import type { EvaluationResult } from '../snn/evaluate.js';
import type { EpochMetrics } from '../train/loop.js';
import type { RunMetadata } from '../train/metadata.js';
import type { TrainSummary } from '../train/pipeline.js';
import { describeFsError } from '../util/fs-errors.js';
import { pathHint } from '../util/near-miss.js';

const num = z.number();
/** NaN and ±Infinity are written as null by JSON.stringify. */
const numOrNull = z.number().nullable();

const metadataSchema = z.object({
  whetstone_version: z.string(),
  tfjs_version: z.string(),
  node_version: z.string(),
  backend: z.object({
    name: z.string(),
    requested: z.string().optional(),
    tfjsVersion: z.string().optional(),
    simd: z.boolean().optional(),
    threads: z.number().optional(),
    fallbackReason: z.string().optional(),
  }),
  seed: num,
  machine: z.object({ platform: z.string(), release: z.string(), arch: z.string(), cpu: z.string(), cores: num, memory_gb: num }),
  command: z.array(z.string()),
  started_at: z.string(),
  ended_at: z.string().optional(),
  resumed_at: z.array(z.string()).optional(),
});

const metricsSchema = z.object({
  epoch: z.number().int().positive(),
  loss: numOrNull,
  accuracy: numOrNull,
  val_accuracy: numOrNull,
  spiking_val_accuracy: numOrNull,
  sharpness: z.array(num),
  phase: z.string(),
  // Absent in runs made before training.learning_rate_schedule existed.
  learning_rate: num.optional(),
  seconds: num,
  images_per_second: numOrNull,
});

const summarySchema = z.object({
  experiment: z.string(),
  dataset: z.string(),
  backend: z.string(),
  seed: num,
  epochs: num,
  max_epochs: num,
  sharpening_finished: z.boolean(),
  unsharpened_accuracy: numOrNull,
  spiking_accuracy: numOrNull,
  accuracy_drop: numOrNull,
  final_val_accuracy: numOrNull,
  final_spiking_val_accuracy: numOrNull,
  train_images: num,
  test_images: num,
  wall_seconds: num,
  train_seconds: num,
  images_per_second: numOrNull,
  // Absent in runs made before train wrote the spiking artifact (snn/).
  snn: z
    .object({
      accuracy: numOrNull,
      agrees_with_tfjs: z.boolean(),
      neurons: num,
      spikes_per_inference: num,
      synaptic_events_per_inference: num,
      ann_macs_per_inference: num,
      latency_steps: num,
      // Absent in runs made before train measured it.
      quantized_accuracy: numOrNull.optional(),
      quantized_weight_bits: num.optional(),
    })
    .optional(),
});

const layerSchema = z.object({
  name: z.string(),
  type: z.string(),
  step: num,
  neurons: num,
  input: z.string(),
  spikes_per_inference: num,
  fraction_active: num,
  synaptic_events_per_inference: num,
  ann_macs_per_inference: num,
});

const evaluationSchema = z.object({
  network: z.string(),
  dataset: z.string().nullable(),
  images: num,
  input_encoding: z.string(),
  weight_bits: numOrNull,
  accuracy: numOrNull,
  correct: num,
  unquantized_accuracy: numOrNull,
  class_names: z.array(z.string()),
  confusion: z.array(z.array(num)),
  latency_steps: num,
  parameter_bytes: num,
  input_active_per_inference: num,
  layers: z.array(layerSchema),
  totals: z.object({
    neurons: num,
    spikes_per_inference: num,
    synaptic_events_per_inference: num,
    ann_macs_per_inference: num,
    events_per_mac: numOrNull,
  }),
  energy: z.object({
    note: z.string(),
    rows: z.array(z.object({ platform: z.string(), op: z.string(), ops_per_inference: num, joules_per_op: num, joules_per_inference: num, source: z.string() })),
  }),
  quantization: z.array(z.object({ layer: z.string(), step: num, biasBits: num })).nullable(),
  reference_agreement: numOrNull,
  /** Recorded from session 5 on. */
  tied_decisions: num.optional(),
});

export type RunMetadataRecord = z.output<typeof metadataSchema>;
export type EpochRecord = z.output<typeof metricsSchema>;
export type SummaryRecord = z.output<typeof summarySchema>;
export type EvaluationRecord = z.output<typeof evaluationSchema>;
export type LayerRecord = z.output<typeof layerSchema>;

// The writers' types must satisfy what the report reads: a renamed key in train or snn fails to compile here.
type DeepReadonly<T> = T extends (infer U)[] ? readonly DeepReadonly<U>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;
type Assignable<_To, _From extends _To> = true;
export type WriterTypesFit = [
  Assignable<DeepReadonly<RunMetadataRecord>, RunMetadata>,
  Assignable<DeepReadonly<EpochRecord>, EpochMetrics>,
  Assignable<DeepReadonly<SummaryRecord>, TrainSummary>,
  Assignable<DeepReadonly<EvaluationRecord>, EvaluationResult>,
];

/** Everything the report reads from one run directory. */
export interface RunRecord {
  /** Absolute path. */
  readonly dir: string;
  /** The directory's name: the run's id. */
  readonly id: string;
  readonly config: ExperimentConfig;
  /** config.yaml as written (shown verbatim in the report). */
  readonly configText: string;
  readonly metadata: RunMetadataRecord;
  readonly metrics: readonly EpochRecord[];
  /** null until the run has ended (an interrupted run). */
  readonly summary: SummaryRecord | null;
  readonly evaluation: EvaluationRecord | null;
}

function problem(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.');
  return path === '' ? issue.message : `${path}: ${issue.message}`;
}

function readText(file: string, shown: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`${shown}: cannot read (${describeFsError(e)})`);
  }
}

function parseJson<T>(text: string, shown: string, schema: z.ZodType<T>): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InputError(`${shown}: not valid JSON`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new InputError(`${shown}: not a whetstone file of this kind (${problem(parsed.error.issues[0]!)})`);
  return parsed.data;
}

function readOptionalJson<T>(file: string, shown: string, schema: z.ZodType<T>): T | null {
  try {
    statSync(file);
  } catch {
    return null;
  }
  return parseJson(readText(file, shown), shown, schema);
}

/** Reads and checks a run directory; `shown` names it in messages (as the user typed it). */
export function readRun(dirArg: string, shown: string = dirArg): RunRecord {
  const dir = resolve(dirArg);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (e) {
    throw new InputError(`${shown}: cannot read run directory (${describeFsError(e)})`, pathHint(dir));
  }
  if (!isDir) throw new InputError(`${shown}: not a run directory (a file; give runs/<id>)`);
  for (const required of ['config.yaml', 'metadata.json', 'metrics.jsonl']) {
    try {
      statSync(join(dir, required));
    } catch {
      throw new InputError(`${shown}: not a run directory (no ${required})`, 'give the directory that whetstone train created, runs/<id>');
    }
  }
  const configFile = join(shown, 'config.yaml');
  const configText = readText(join(dir, 'config.yaml'), configFile);
  const { config } = loadExperiment(join(dir, 'config.yaml'), configFile);
  const metadata = parseJson(readText(join(dir, 'metadata.json'), join(shown, 'metadata.json')), join(shown, 'metadata.json'), metadataSchema);

  const metricsShown = join(shown, 'metrics.jsonl');
  const metrics = readText(join(dir, 'metrics.jsonl'), metricsShown)
    .split('\n')
    .map((line, i) => ({ line, i }))
    .filter(({ line }) => line.trim() !== '')
    .map(({ line, i }) => parseJson(line, `${metricsShown}:${i + 1}`, metricsSchema));
  metrics.forEach((m, i) => {
    if (m.epoch !== i + 1) throw new InputError(`${metricsShown}:${i + 1}: epoch ${m.epoch} where epoch ${i + 1} was expected`);
  });

  const summary = readOptionalJson(join(dir, 'summary.json'), join(shown, 'summary.json'), summarySchema);
  const evaluation = readOptionalJson(join(dir, 'evaluation.json'), join(shown, 'evaluation.json'), evaluationSchema);
  if (evaluation !== null) {
    const n = evaluation.class_names.length;
    if (evaluation.confusion.length !== n || evaluation.confusion.some((row) => row.length !== n)) {
      throw new InputError(`${join(shown, 'evaluation.json')}: the confusion matrix is not ${n} × ${n} (one row and column per class)`);
    }
  }
  return { dir, id: basename(dir), config, configText, metadata, metrics, summary, evaluation };
}
