/**
 * `whetstone train` as a library function: experiment config in, run directory out.
 *
 *   config → dataset → model → epoch loop with sharpening (checkpoint every epoch)
 *          → batch norm folded, every layer at sharpness 1 → model/ + summary.json
 *
 * Progress is reported through `events`; nothing here writes to the terminal.
 */
import { appendFileSync, cpSync, existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { initBackend, type BackendInfo, type BackendName } from '../backend/index.js';
import { datasetSpecFromConfig } from '../config/dataset-spec.js';
import { loadExperiment, type ConfigOverride } from '../config/loader.js';
import type { ExperimentConfig } from '../config/schema.js';
import { loadDataset, type Dataset } from '../data/index.js';
import { InputError, InterruptedError, RuntimeFailure } from '../errors.js';
import { buildModel } from '../model/builder.js';
import { foldBatchNorm } from '../model/fold.js';
import { loadModel, saveModel } from '../model/io.js';
import { isSpikingLayer, type SpikingLayer } from '../model/layers/spiking.js';
import type { OutputKey } from '../model/key.js';
import type { SoftmaxDecode } from '../model/layers/decode.js';
import { tf } from '../model/tf.js';
import { createSchedule } from '../sharpen/index.js';
import { convertModel } from '../snn/from-tfjs.js';
import { evaluateSpikingNetwork, predictSpiking, quantizeNetwork, writeArtifact, type EvaluationResult } from '../snn/index.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { describeFsError } from '../util/fs-errors.js';
import { loadCheckpoint, saveCheckpoint, type TrainingState } from './checkpoint.js';
import { accuracyOf, evaluateAccuracy, predictClasses, withFullSharpness, withSharpness } from './evaluate.js';
import { runEpochs, type BatchProgress, type EpochMetrics } from './loop.js';
import { collectMetadata, type RunMetadata } from './metadata.js';
import { augmentationAt } from './augment-phases.js';
import { checkBranch } from './branch.js';
import { trainingLearningRate } from './lr-schedule.js';
import { createOptimizer } from './optimizer.js';
import { defaultWorkers } from './parallel.js';
import { createNamedRunDir, createRunDir } from './run-dir.js';
import type { TrainSummary } from './summary.js';

export { SUMMARY_KEYS, type TrainSummary } from './summary.js';

export interface TrainOptions {
  /** Parent directory of the run directory. Defaults to the config's output_dir. */
  readonly outDir?: string;
  readonly backend?: BackendName;
  /** Override training.epochs. */
  readonly epochs?: number;
  /** Use only the first N images of each split. */
  readonly limit?: number;
  /** Threads computing gradients (data-parallel). Defaults to one per core (1 on tfjs-node). */
  readonly workers?: number;
  /** Continue the run in this directory instead of starting one. */
  readonly resume?: string;
  /** Create the run directory exactly here (it must not exist, or be empty) instead of `<outDir>/<name>-<time>`: sweeps name their runs. */
  readonly runDir?: string;
  /** Start a new run of the config from this run's checkpoint (branch.ts checks that they agree up to it). */
  readonly from?: string;
  readonly signal?: AbortSignal;
  /** Recorded in metadata.json. */
  readonly command?: readonly string[];
  /** `--set key.path=value` overrides, applied on top of the config file. */
  readonly overrides?: readonly ConfigOverride[];
}

export interface TrainEvents {
  onBackend?(info: BackendInfo): void;
  onStart?(info: StartInfo): void;
  onBatch?(p: BatchProgress): void;
  onEpoch?(m: EpochMetrics): void;
  onPhase?(text: string): void;
  /** The run directory is complete (summary.json written), also when sharpening did not finish: e.g. render the report. */
  onWritten?(runDir: string): Promise<void> | void;
}

export interface StartInfo {
  readonly runDir: string;
  readonly config: ExperimentConfig;
  readonly trainCount: number;
  readonly validationCount: number;
  readonly testCount: number;
  readonly spikingLayers: number;
  readonly parameters: number;
  readonly resumedFromEpoch: number;
  /** `--from`: the run directory whose checkpoint this run starts from. */
  readonly branchedFrom?: string;
}

export interface TrainResult {
  readonly runDir: string;
  readonly summary: TrainSummary;
  /** The simulator's full evaluation (per-layer statistics, energy estimate). */
  readonly evaluation: EvaluationResult;
}

const UNSHARPENED_DIR = 'unsharpened';
/** Every run also reports its spiking accuracy with weights quantized to this many bits. */
export const QUANTIZED_WEIGHT_BITS = 8;

function applyOverrides(config: ExperimentConfig, opts: TrainOptions): ExperimentConfig {
  let c = config;
  if (opts.epochs !== undefined) c = { ...c, training: { ...c.training, epochs: opts.epochs } };
  if (opts.limit !== undefined) c = { ...c, dataset: { ...c.dataset, limit: { train: opts.limit, test: opts.limit } } };
  if (opts.outDir !== undefined) c = { ...c, output_dir: opts.outDir };
  return c;
}

async function loadData(config: ExperimentConfig): Promise<Dataset> {
  return loadDataset(datasetSpecFromConfig(config));
}

function readMetrics(runDir: string, upToEpoch: number): EpochMetrics[] {
  const file = join(runDir, 'metrics.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as EpochMetrics)
    .filter((m) => m.epoch <= upToEpoch);
}

/** Trains (or resumes) an experiment and writes its run directory. */
export async function trainExperiment(configPath: string | undefined, opts: TrainOptions = {}, events: TrainEvents = {}): Promise<TrainResult> {
  const startedAt = performance.now();
  let config: ExperimentConfig;
  let runDir: string;
  if (opts.resume !== undefined) {
    runDir = resolve(opts.resume);
    config = readRunConfig(runDir, opts.resume);
    if (opts.epochs !== undefined) config = applyOverrides(config, { epochs: opts.epochs });
  } else {
    if (configPath === undefined) throw new InputError('train needs an experiment config (or --resume <run-dir>)');
    config = applyOverrides(loadExperiment(configPath, configPath, opts.overrides).config, opts);
    runDir = '';
  }

  const backend = await initBackend(opts.backend);
  events.onBackend?.(backend);
  events.onPhase?.(`loading dataset ${config.dataset.name}`);
  const data = await loadData(config);

  let model: tf.LayersModel;
  let spikingLayers: readonly SpikingLayer[];
  let state: TrainingState | undefined;
  const optimizer = createOptimizer(config.training.optimizer);
  let metadata: RunMetadata;
  if (opts.resume !== undefined) {
    const checkpoint = await loadCheckpoint(runDir);
    model = checkpoint.model;
    state = checkpoint.state;
    spikingLayers = model.layers.filter(isSpikingLayer);
    metadata = readRunMetadata(runDir);
    metadata.resumed_at = [...(metadata.resumed_at ?? []), new Date().toISOString()];
    metadata.backend = backend;
    model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    // The optimizer creates its slots lazily: restore them after compile, before the first step.
    await optimizer.setWeights(checkpoint.optimizerWeights);
    const kept = readMetrics(runDir, state.epochsDone);
    writeFileAtomic(join(runDir, 'metrics.jsonl'), kept.map((m) => `${JSON.stringify(m)}\n`).join(''));
  } else if (opts.from !== undefined) {
    const branch = await branchFrom(resolve(opts.from), config, data, backend, opts.command ?? []);
    ({ model, state, runDir, metadata } = branch);
    spikingLayers = model.layers.filter(isSpikingLayer);
    model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    await optimizer.setWeights(branch.optimizerWeights);
  } else {
    const built = buildModel(config.model, { inputShape: data.shape, classes: data.classes, seed: config.seed });
    model = built.model;
    spikingLayers = [...built.spikingLayers];
    model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    runDir = opts.runDir !== undefined ? createNamedRunDir(resolve(opts.runDir)) : createRunDir(resolve(config.output_dir), config.name ?? 'experiment');
    writeFileAtomic(join(runDir, 'config.yaml'), stringify(config));
    metadata = collectMetadata(backend, config.seed, opts.command ?? []);
    writeFileAtomic(join(runDir, 'metrics.jsonl'), '');
  }
  // A resumed run keeps its worker count unless told otherwise: with batch norm, N workers train
  // (deterministically) differently from one.
  metadata.workers = opts.workers ?? (opts.resume !== undefined || opts.from !== undefined ? metadata.workers : undefined) ?? defaultWorkers(backend.name, config);
  writeJsonAtomic(join(runDir, 'metadata.json'), metadata);
  return runTraining({ startedAt, config, backend, data, model, optimizer, spikingLayers, runDir, metadata, state, branchedFrom: opts.from === undefined ? undefined : metadata.branched_from?.run }, opts, events);
}

/** A run directory's resolved config.yaml (InputError naming `shown` when there is none). */
function readRunConfig(runDir: string, shown = runDir): ExperimentConfig {
  if (!existsSync(join(runDir, 'config.yaml'))) throw new InputError(`${shown}: not a run directory (no config.yaml)`);
  return loadExperiment(join(runDir, 'config.yaml')).config;
}

function readRunMetadata(runDir: string): RunMetadata {
  const file = join(runDir, 'metadata.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunMetadata;
  } catch (e) {
    throw new InputError(`${file}: cannot read run metadata (${e instanceof SyntaxError ? 'not valid JSON' : describeFsError(e)})`);
  }
}

/**
 * A new run directory for `config` that starts where `source`'s checkpoint stands: its model and
 * optimizer state, its metrics and unsharpened snapshot so far. Refused (InputError, before
 * anything is written) unless `config` trains those epochs as the run did (branch.ts).
 */
async function branchFrom(source: string, config: ExperimentConfig, data: Dataset, backend: BackendInfo, command: readonly string[]) {
  const sourceConfig = readRunConfig(source);
  const sourceMetadata = readRunMetadata(source);
  const checkpoint = await loadCheckpoint(source);
  const { state } = checkpoint;
  const spiking = checkpoint.model.layers.filter(isSpikingLayer).length;
  const batchesPerEpoch = Math.ceil(data.train.count / config.training.batch_size);
  const metrics = readMetrics(source, state.epochsDone);
  try {
    // The checkpoint must be what the run's own config gives, or the comparison means nothing.
    const recorded = createSchedule(sourceConfig.sharpening, spiking, batchesPerEpoch, state.schedule).sharpness;
    const schedule = checkBranch({
      run: source,
      source: sourceConfig,
      target: config,
      epochsDone: state.epochsDone,
      losses: metrics.map((m) => m.loss),
      spikingLayers: spiking,
      batchesPerEpoch,
    });
    const replayed = createSchedule(config.sharpening, spiking, batchesPerEpoch, schedule).sharpness;
    if (replayed.some((v, i) => v !== recorded[i])) {
      throw new InputError(`--from ${source}: its checkpoint holds sharpness [${recorded.join(' ')}], not the [${replayed.join(' ')}] its config.yaml gives after epoch ${state.epochsDone}`);
    }
    const runDir = createRunDir(resolve(config.output_dir), config.name ?? 'experiment');
    writeFileAtomic(join(runDir, 'config.yaml'), stringify(config));
    writeFileAtomic(join(runDir, 'metrics.jsonl'), metrics.map((m) => `${JSON.stringify(m)}\n`).join(''));
    if (state.unsharpenedSaved) cpSync(join(source, UNSHARPENED_DIR), join(runDir, UNSHARPENED_DIR), { recursive: true });
    const metadata: RunMetadata = {
      ...collectMetadata(backend, config.seed, command),
      workers: sourceMetadata.workers,
      branched_from: { run: source, epoch: state.epochsDone },
    };
    return { model: checkpoint.model, optimizerWeights: checkpoint.optimizerWeights, runDir, metadata, state: { ...state, schedule } };
  } catch (e) {
    checkpoint.model.dispose();
    tf.dispose(checkpoint.optimizerWeights.map((w) => w.tensor));
    throw e;
  }
}

/** Everything a run needs once its model is built (or restored) and compiled, and its directory exists. */
export interface PreparedRun {
  /** `performance.now()` when the command started, for wall_seconds. */
  readonly startedAt: number;
  readonly config: ExperimentConfig;
  readonly backend: BackendInfo;
  readonly data: Dataset;
  /** Compiled with `optimizer`, categorical cross-entropy and accuracy. */
  readonly model: tf.LayersModel;
  readonly optimizer: tf.Optimizer;
  readonly spikingLayers: readonly SpikingLayer[];
  readonly runDir: string;
  /** Already written to runDir/metadata.json; `ended_at` is added at the end. */
  readonly metadata: RunMetadata;
  /** Where a resumed run stands. */
  readonly state?: TrainingState;
  /** `--from`: the run whose checkpoint `state` and the model come from. */
  readonly branchedFrom?: string;
}

/**
 * The part of a run shared by `train` and `sharpen`: the epoch loop with sharpening and per-epoch
 * checkpoints, then the test-split evaluation, the folded spiking model, the framework-free
 * artifact checked against it, and summary.json. Disposes the model.
 */
export async function runTraining(run: PreparedRun, opts: Pick<TrainOptions, 'signal'> = {}, events: TrainEvents = {}): Promise<TrainResult> {
  const { startedAt, config, backend, data, model, optimizer, spikingLayers, runDir, metadata, state } = run;
  const batchesPerEpoch = Math.ceil(data.train.count / config.training.batch_size);
  const schedule = createSchedule(config.sharpening, spikingLayers.length, batchesPerEpoch, state?.schedule);
  events.onStart?.({
    runDir,
    config,
    trainCount: data.train.count,
    validationCount: data.validation?.count ?? 0,
    testCount: data.test.count,
    spikingLayers: spikingLayers.length,
    parameters: model.countParams(),
    resumedFromEpoch: state?.epochsDone ?? 0,
    branchedFrom: run.branchedFrom,
  });

  let unsharpenedSaved = state?.unsharpenedSaved ?? false;
  let trainSeconds = state?.trainSeconds ?? 0;
  let lastMetrics: EpochMetrics | undefined = readMetrics(runDir, state?.epochsDone ?? 0).at(-1);
  const loop = await runEpochs({
    model,
    spikingLayers,
    schedule,
    data,
    batchSize: config.training.batch_size,
    workers: metadata.workers,
    seed: config.seed,
    augmentation: (epoch) => augmentationAt(config.training.augmentation, epoch),
    learningRate: (epoch) => trainingLearningRate(config.training, epoch),
    startEpoch: state?.epochsDone ?? 0,
    maxEpochs: config.training.epochs,
    signal: opts.signal,
    events: {
      onBatch: events.onBatch,
      onEpoch: async (m, unsharpened) => {
        trainSeconds += m.seconds;
        lastMetrics = m;
        appendFileSync(join(runDir, 'metrics.jsonl'), `${JSON.stringify(m)}\n`);
        if (unsharpened) {
          // End of pre-sharpening training so far: keep this network to measure what sharpening costs.
          await withSharpness(spikingLayers, 0, () => saveModel(model, join(runDir, UNSHARPENED_DIR)));
          unsharpenedSaved = true;
        }
        await saveCheckpoint(runDir, model, optimizer, {
          version: 1,
          epochsDone: m.epoch,
          schedule: schedule.toJSON(),
          unsharpenedSaved,
          trainSeconds,
        });
        events.onEpoch?.(m);
      },
    },
  }).catch((e: unknown) => {
    if (!(e instanceof InterruptedError)) throw e;
    const done = readMetrics(runDir, Number.MAX_SAFE_INTEGER).length;
    throw new InterruptedError(`${e.message}; ${done} completed epoch(s) are checkpointed in ${runDir}`, `continue with: whetstone train --resume ${runDir}`);
  });

  events.onPhase?.('evaluating on the test split');
  let unsharpenedAccuracy: number | null = null;
  if (unsharpenedSaved) {
    const before = await loadModel(join(runDir, UNSHARPENED_DIR));
    unsharpenedAccuracy = evaluateAccuracy(before, data.test, data.shape);
    before.dispose();
  }

  // The spiking network: every layer a step (the fold copies sharpness 1), batch norm folded into the weights before it.
  const spiking = await withFullSharpness(spikingLayers, () => foldBatchNorm(model));
  const tfjsPredictions = predictClasses(spiking, data.test, data.shape);
  const spikingAccuracy = accuracyOf(tfjsPredictions, data.test.labels);
  await saveModel(spiking, join(runDir, 'model'), {
    whetstone: {
      key: (spiking.layers.at(-1) as SoftmaxDecode).key satisfies OutputKey,
      class_names: data.classNames,
      input_shape: data.shape,
    },
  });

  // The framework-free artifact every export starts from, checked against the tfjs model image by image.
  events.onPhase?.('running the spiking network in the simulator');
  const network = convertModel(spiking, { name: basename(runDir), classNames: data.classNames });
  writeArtifact(join(runDir, 'snn'), network);
  const evaluation = evaluateSpikingNetwork(network, data.test, { dataset: config.dataset.name, reference: tfjsPredictions });
  const agrees = evaluation.reference_agreement === data.test.count;
  writeJsonAtomic(join(runDir, 'evaluation.json'), evaluation);
  // What the network keeps on integer hardware: the same simulator, weights quantized per layer.
  const quantizedAccuracy = accuracyOf(predictSpiking(quantizeNetwork(network, QUANTIZED_WEIGHT_BITS).network, data.test), data.test.labels);

  const wallSeconds = (performance.now() - startedAt) / 1000;
  const summary: TrainSummary = {
    experiment: config.name ?? 'experiment',
    dataset: config.dataset.name,
    backend: backend.name,
    seed: config.seed,
    epochs: loop.epochsDone,
    max_epochs: config.training.epochs,
    sharpening_finished: loop.finished,
    unsharpened_accuracy: unsharpenedAccuracy,
    spiking_accuracy: spikingAccuracy,
    accuracy_drop: unsharpenedAccuracy === null ? null : unsharpenedAccuracy - spikingAccuracy,
    final_val_accuracy: lastMetrics?.val_accuracy ?? null,
    final_spiking_val_accuracy: lastMetrics?.spiking_val_accuracy ?? null,
    train_images: data.train.count,
    test_images: data.test.count,
    wall_seconds: wallSeconds,
    train_seconds: trainSeconds,
    snn: {
      accuracy: evaluation.accuracy,
      agrees_with_tfjs: agrees,
      neurons: evaluation.totals.neurons,
      spikes_per_inference: evaluation.totals.spikes_per_inference,
      synaptic_events_per_inference: evaluation.totals.synaptic_events_per_inference,
      ann_macs_per_inference: evaluation.totals.ann_macs_per_inference,
      latency_steps: evaluation.latency_steps,
      quantized_accuracy: quantizedAccuracy,
      quantized_weight_bits: QUANTIZED_WEIGHT_BITS,
    },
    images_per_second: trainSeconds > 0 ? (data.train.count * (loop.epochsDone - (state?.epochsDone ?? 0))) / Math.max(1e-9, trainSeconds - (state?.trainSeconds ?? 0)) : 0,
  };
  if (metadata.source_model !== undefined) {
    // A `sharpen` run: what the network it started from scored on the same test split.
    summary.original_accuracy = metadata.source_model.accuracy;
    summary.source_model = metadata.source_model.path;
  }
  writeJsonAtomic(join(runDir, 'summary.json'), summary);
  metadata.ended_at = new Date().toISOString();
  writeJsonAtomic(join(runDir, 'metadata.json'), metadata);
  model.dispose();
  spiking.dispose();
  await events.onWritten?.(runDir);

  if (!loop.finished) {
    throw new RuntimeFailure(
      `sharpening did not finish within ${config.training.epochs} epochs (sharpness ${schedule.sharpness.map((s) => s.toFixed(2)).join(', ')}); the spiking accuracy ${(spikingAccuracy * 100).toFixed(2)}% in ${runDir} is of a partly sharpened network`,
      'raise training.epochs (or --epochs), or start sharpening earlier',
    );
  }
  return { runDir, summary, evaluation };
}
