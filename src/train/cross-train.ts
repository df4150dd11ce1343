/**
 * `whetstone sharpen` as a library function: a stock tfjs-layers model (tfjs `model.save` output or
 * the tensorflowjs converter's Keras output) in, a `train`-style run directory out.
 *
 *   model.json ─► source + plan (JSON only: refuse up front, listing every offending layer)
 *              ─► load with tfjs ─► accuracy of the source model on the test split
 *              ─► rewrite (spiking activations, n-hot head, SoftmaxDecode) ─► calibrate on training images
 *              ─► runTraining (the same loop, checkpoints, folding, artifact and summary as `train`)
 *
 * Nothing is written before the model has been accepted and rebuilt.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { initBackend, type BackendName } from '../backend/index.js';
import { datasetSpecFromConfig } from '../config/dataset-spec.js';
import { loadExperiment } from '../config/loader.js';
import { experimentSchema, type ExperimentConfig, type SharpeningConfig } from '../config/schema.js';
import { batches, DATASET_NAMES, identityOrder, loadDataset, normaliseBatch, type Dataset, type DatasetName, type DatasetSplit } from '../data/index.js';
import { InputError } from '../errors.js';
import { calibrate, type Calibration } from '../model/convert/calibrate.js';
import { formatProblems, planConversion, type ConversionPlan } from '../model/convert/plan.js';
import { rewriteModel } from '../model/convert/rewrite.js';
import { importedSource, importModel } from '../model/convert/import.js';
import { SourceFormatError, type SourceModel } from '../model/convert/source.js';
import { tf } from '../model/tf.js';
import { plannedEpochs } from '../sharpen/index.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { accuracyOf, evaluateAccuracy } from './evaluate.js';
import { collectMetadata, type SourceModelInfo } from './metadata.js';
import { createOptimizer } from './optimizer.js';
import { runTraining, type TrainEvents, type TrainResult } from './pipeline.js';
import { defaultWorkers } from './parallel.js';
import { createRunDir } from './run-dir.js';

export const SCHEDULE_NAMES = ['scheduled', 'simple', 'adaptive'] as const;
export type ScheduleName = (typeof SCHEDULE_NAMES)[number];

export interface SharpenOptions {
  /** A dataset name (mnist, fashion-mnist) or an experiment YAML whose dataset, training and sharpening sections to use. */
  readonly data: string;
  /** Sharpening schedule, with `sharpen`'s defaults (replaces the config's sharpening section). */
  readonly schedule?: ScheduleName;
  /** Maximum epochs. Defaults to the config's, or (with a dataset name) the schedule's planned length. */
  readonly epochs?: number;
  /** n: output neurons per class. Defaults to the config's model.output.neurons_per_class (10). */
  readonly keyWidth?: number;
  readonly outDir?: string;
  readonly backend?: BackendName;
  /** Use only the first N images of each split. */
  readonly limit?: number;
  /** Gradient threads (data-parallel); defaults to one per core on wasm/cpu. */
  readonly workers?: number;
  readonly signal?: AbortSignal;
  /** Recorded in metadata.json. */
  readonly command?: readonly string[];
  /** Relative paths resolve against this. Defaults to the process's working directory. */
  readonly cwd?: string;
}

export interface SharpenEvents extends TrainEvents {
  /** The source model was accepted and measured. */
  onSource?(info: SourceModelInfo): void;
  /** Something in the config that `sharpen` does not use. */
  onWarning?(text: string): void;
}

export interface SharpenResult extends TrainResult {
  readonly source: SourceModelInfo;
}

/** Training defaults for fine-tuning a trained network (a config file's own sections take precedence). */
// Adam at 3e-4 keeps what the network learned; at 1e-3 a sigmoid MLP lost 6 points to sharpening instead of 1 (docs/sharpen.md).
const SHARPEN_TRAINING = { epochs: 20, batch_size: 32, optimizer: { name: 'adam', learning_rate: 0.0003 } } as const;
const CALIBRATION_IMAGES = 512;

/** The sharpening section `--schedule NAME` stands for: one epoch of fine-tuning, then each layer over two epochs, bottom-up. */
export function defaultSchedule(name: ScheduleName, batchesPerEpoch: number): SharpeningConfig {
  switch (name) {
    case 'scheduled':
      return { schedule: 'scheduled', order: 'bottom_up', start: 1, duration: 2, intermission: 0 };
    case 'simple':
      return { schedule: 'simple', order: 'bottom_up', start_epoch: 1, steps: 2 * batchesPerEpoch, per: 'batch' };
    case 'adaptive':
      return experimentSchema.shape.sharpening.parse({ schedule: 'adaptive', min_init_epochs: 1 });
  }
}

function experimentName(modelFile: string): string {
  const stem = basename(modelFile, extname(modelFile));
  const base = stem === 'model' ? basename(dirname(modelFile)) : stem;
  const clean = base.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return `${clean === '' ? 'model' : clean}-sharpened`;
}

function loadConfig(opts: SharpenOptions, cwd: string, name: string): { config: ExperimentConfig; fromFile: boolean } {
  const data = opts.data;
  const path = resolve(cwd, data);
  const ext = extname(data).toLowerCase();
  if (ext === '.yaml' || ext === '.yml' || (existsSync(path) && statSync(path).isFile())) {
    const { config } = loadExperiment(path, data, [], { modelGiven: true });
    return { config: { ...config, name: config.name ?? name }, fromFile: true };
  }
  if (!(DATASET_NAMES as readonly string[]).includes(data)) {
    throw new InputError(`--data ${data}: not a dataset name (${DATASET_NAMES.join(', ')}) or an experiment YAML file`);
  }
  if (data === 'idx' || data === 'cifar10') {
    throw new InputError(`--data ${data}: needs files; give an experiment YAML whose dataset section names them`);
  }
  const config = experimentSchema.parse({
    name,
    dataset: { name: data as DatasetName },
    model: { layers: [{ type: 'flatten' }] },
    training: SHARPEN_TRAINING,
    sharpening: defaultSchedule('scheduled', 1),
  });
  return { config, fromFile: false };
}

/** The source model's predicted class for each image of the split, its input reshaped as it declares. */
function sourceAccuracy(model: tf.LayersModel, source: SourceModel, split: DatasetSplit, data: Dataset): number {
  const declared = source.inputShape ?? [];
  const [h, w, c] = data.shape;
  const shape = declared.length === 1 ? [h * w * c] : declared.length === 2 ? [h, w] : [h, w, c];
  const predicted = new Uint8Array(split.count);
  let offset = 0;
  for (const batch of batches(split, identityOrder(split.count), 500, data.shape)) {
    const classes = tf.tidy(() => tf.argMax(model.predict(tf.tensor(batch.x, [batch.count, ...shape])) as tf.Tensor, -1));
    predicted.set(classes.dataSync(), offset);
    classes.dispose();
    offset += batch.count;
  }
  return accuracyOf(predicted, split.labels);
}

/** Which Whetstone layers each source layer became, for metadata.json. */
function layerMap(source: SourceModel, plan: ConversionPlan, head: string): SourceModelInfo['layers'] {
  const became = new Map<string, string[]>(source.layers.map((l) => [l.name, []]));
  for (const step of plan.steps) {
    if (step.op === 'copy' || step.op === 'global_pool') became.get(step.source.name)?.push(step.source.name);
    if (step.op === 'spiking') became.get(step.from.name)?.push(step.name);
  }
  became.get(plan.head.source.name)?.push(head);
  return source.layers.map((l) => ({ source: l.name, class_name: l.className, became: became.get(l.name)! }));
}

/** Cross-trains the model in `modelPath` (a model.json or its directory) into a spiking network. */
export async function sharpenModel(modelPath: string, opts: SharpenOptions, events: SharpenEvents = {}): Promise<SharpenResult> {
  const startedAt = performance.now();
  const cwd = opts.cwd ?? process.cwd();
  const full = resolve(cwd, modelPath);
  const file = existsSync(full) && statSync(full).isDirectory() ? join(full, 'model.json') : full;
  const imported = await importModel(file, modelPath);
  const artifacts = imported.artifacts;
  let source: SourceModel;
  try {
    source = importedSource(imported);
  } catch (e) {
    if (e instanceof SourceFormatError) throw new InputError(`${modelPath}: not a layers model whetstone can read (${e.message})`);
    throw e;
  }

  let { config, fromFile } = loadConfig(opts, cwd, experimentName(file));
  if (opts.limit !== undefined) config = { ...config, dataset: { ...config.dataset, limit: { train: opts.limit, test: opts.limit } } };
  if (opts.outDir !== undefined) config = { ...config, output_dir: opts.outDir };
  if (fromFile && config.model.output.batch_norm) events.onWarning?.('model.output.batch_norm is not used by sharpen (the head starts from the source classifier)');
  if (fromFile && !(config.model.layers.length === 1 && config.model.layers[0]!.type === 'flatten')) {
    events.onWarning?.(`${opts.data}: model.layers is ignored; the layers come from ${modelPath}`);
  }

  events.onPhase?.(`loading dataset ${config.dataset.name}`);
  const data = await loadDataset(datasetSpecFromConfig(config));
  const { plan, problems } = planConversion(source, {
    shape: data.shape,
    classes: data.classes,
    dataset: data.name,
    inputEncoding: config.model.input_encoding,
  });
  if (plan === undefined) {
    throw new InputError(formatProblems(modelPath, problems), 'see docs/sharpen.md for what converts to a spiking layer');
  }

  const backend = await initBackend(opts.backend);
  events.onBackend?.(backend);
  events.onPhase?.(`rewriting ${basename(file)} for Whetstone`);
  let original: tf.LayersModel;
  try {
    original = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (e) {
    throw new InputError(`${modelPath}: cannot build the model (${(e as Error).message.split('\n')[0]})`);
  }
  const originalAccuracy = sourceAccuracy(original, source, data.test, data);

  const output = { ...config.model.output, neurons_per_class: opts.keyWidth ?? config.model.output.neurons_per_class, batch_norm: false };
  if (opts.keyWidth !== undefined && output.width !== undefined && !output.overlapping) output.width = undefined;
  const rewritten = await rewriteModel(original, plan, {
    shape: data.shape,
    classes: data.classes,
    inputEncoding: config.model.input_encoding,
    inputThreshold: config.model.input_threshold,
    neuronsPerClass: output.neurons_per_class,
    width: output.width,
    overlapping: output.overlapping,
    temperature: output.temperature,
    seed: config.seed,
  });
  const { model } = rewritten;
  const sampleSize = Math.min(CALIBRATION_IMAGES, data.train.count);
  const sample = normaliseBatch(data.train, identityOrder(sampleSize), data.shape);
  const x = tf.tensor4d(sample.x, [sample.count, ...data.shape]);
  let calibration: Calibration;
  try {
    calibration = calibrate(rewritten, plan, original, x, config.seed);
  } finally {
    x.dispose();
  }
  const convertedAccuracy = evaluateAccuracy(model, data.test, data.shape);
  const info: SourceModelInfo = {
    path: modelPath,
    format: source.format,
    class_name: source.className,
    parameters: original.countParams(),
    accuracy: originalAccuracy,
    converted_accuracy: convertedAccuracy,
    layers: layerMap(source, plan, rewritten.head),
    calibration,
  };
  original.dispose();
  events.onSource?.(info);

  // The run's config.yaml describes the network it trains, so the run directory reads like a `train` run.
  const spikingCount = rewritten.spikingLayers.length;
  const batchesPerEpoch = Math.ceil(data.train.count / config.training.batch_size);
  let sharpening = config.sharpening;
  if (opts.schedule !== undefined) sharpening = defaultSchedule(opts.schedule, batchesPerEpoch);
  else if (!fromFile) sharpening = defaultSchedule('scheduled', batchesPerEpoch);
  const planned = plannedEpochs(sharpening, spikingCount, batchesPerEpoch) ?? 1 + 8 * spikingCount;
  const epochs = opts.epochs ?? (fromFile ? config.training.epochs : planned);
  const described = experimentSchema.safeParse({
    ...config,
    description: config.description ?? `sharpened from ${modelPath} (${source.format} ${source.className})`,
    model: { ...config.model, layers: plan.layers, activation: plan.outputActivation, output },
    training: { ...config.training, epochs },
    sharpening,
  });
  if (!described.success) throw new Error(`sharpen: the rewritten model does not describe as an experiment: ${described.error.message}`);
  config = described.data;

  const optimizer = createOptimizer(config.training.optimizer);
  model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const runDir = createRunDir(resolve(cwd, config.output_dir), config.name ?? 'sharpened');
  writeFileAtomic(join(runDir, 'config.yaml'), stringify(config));
  const metadata = { ...collectMetadata(backend, config.seed, opts.command ?? []), source_model: info, workers: opts.workers ?? defaultWorkers(backend.name, config) };
  writeFileAtomic(join(runDir, 'metrics.jsonl'), '');
  writeJsonAtomic(join(runDir, 'metadata.json'), metadata);
  const result = await runTraining(
    { startedAt, config, backend, data, model, optimizer, spikingLayers: rewritten.spikingLayers, runDir, metadata },
    { signal: opts.signal },
    events,
  );
  return { ...result, source: info };
}
