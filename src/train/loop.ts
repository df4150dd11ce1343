/**
 * The epoch loop: seeded shuffling, one `trainOnBatch` per batch, the sharpening schedule driven
 * after every batch and epoch (the thin adapter between the pure schedule and the model's
 * sharpness variables), validation at current and at full sharpness, and one metrics record per
 * epoch. Stops when every layer is fully sharpened or at the epoch limit.
 */
import {
  augmentBatch,
  augmentationRandom,
  batchCount,
  batches,
  shuffledOrder,
  type Augmentation,
  type Dataset,
} from '../data/index.js';
import { InterruptedError } from '../errors.js';
import { stepSeed } from '../model/dropout.js';
import type { SpikingLayer } from '../model/layers/spiking.js';
import { tf } from '../model/tf.js';
import type { SharpeningPhase, SharpeningSchedule } from '../sharpen/index.js';
import { currentBackend } from '../backend/index.js';
import { evaluateAccuracy, withFullSharpness } from './evaluate.js';
import { setLearningRate } from './optimizer.js';
import { createTrainer, type BatchTrainer } from './parallel.js';

/** One line of metrics.jsonl. */
export interface EpochMetrics {
  /** 1-based epoch number, as people count. */
  readonly epoch: number;
  readonly loss: number;
  readonly accuracy: number;
  /** Validation accuracy at the current sharpness; null without a validation split. */
  readonly val_accuracy: number | null;
  /** Validation accuracy with every layer at sharpness 1: the spiking network's. */
  readonly spiking_val_accuracy: number | null;
  /** Sharpness of every spiking layer at the end of the epoch, input side first. */
  readonly sharpness: readonly number[];
  readonly phase: SharpeningPhase;
  /** The optimizer's learning rate during the epoch (training.learning_rate_schedule). */
  readonly learning_rate: number;
  readonly seconds: number;
  readonly images_per_second: number;
}

export interface BatchProgress {
  readonly epoch: number;
  readonly batch: number;
  readonly batches: number;
  readonly loss: number;
  readonly accuracy: number;
}

export interface LoopEvents {
  onBatch?(p: BatchProgress): void;
  /** After each epoch, before the checkpoint; may be async (the checkpoint is written here). */
  onEpoch?(m: EpochMetrics, unsharpened: boolean): Promise<void> | void;
}

export interface LoopOptions {
  readonly model: tf.LayersModel;
  readonly spikingLayers: readonly SpikingLayer[];
  readonly schedule: SharpeningSchedule;
  readonly data: Dataset;
  readonly batchSize: number;
  /** Threads computing gradients (parallel.ts). Defaults to 1: `model.trainOnBatch` on this thread. */
  readonly workers?: number;
  readonly seed: number;
  /** The random transformations of each epoch's (0-based) training images, drawn from `seed` and the epoch; undefined: plain images. */
  readonly augmentation?: (epoch: number) => Augmentation | undefined;
  /** The learning rate of each epoch (0-based), set on the model's optimizer before the epoch starts. */
  readonly learningRate: (epoch: number) => number;
  /** First epoch to run (0-based): > 0 when resuming. */
  readonly startEpoch: number;
  readonly maxEpochs: number;
  readonly signal?: AbortSignal;
  readonly events?: LoopEvents;
}

export interface LoopResult {
  readonly epochsDone: number;
  readonly finished: boolean;
}

export function applySharpness(layers: readonly SpikingLayer[], sharpness: readonly number[]): void {
  layers.forEach((layer, i) => layer.setSharpness(sharpness[i]!));
}

/** Yields to the event loop so that signals (Ctrl-C) and timers are seen between batches. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function runEpochs(opts: LoopOptions): Promise<LoopResult> {
  const { model, spikingLayers, schedule, data } = opts;
  applySharpness(spikingLayers, schedule.sharpness);
  const trainer = await createTrainer({ model, shape: data.shape, classes: data.classes, workers: opts.workers ?? 1, backend: currentBackend()?.name ?? 'cpu' });
  try {
    return await epochLoop(opts, trainer);
  } finally {
    await trainer.close();
  }
}

async function epochLoop(opts: LoopOptions, trainer: BatchTrainer): Promise<LoopResult> {
  const { model, spikingLayers, schedule, data, batchSize, signal, events } = opts;
  const perEpoch = batchCount(data.train.count, batchSize);

  let epoch = opts.startEpoch;
  for (; epoch < opts.maxEpochs && !schedule.finished; epoch++) {
    const started = performance.now();
    let lossSum = 0;
    let accSum = 0;
    let seen = 0;
    let b = 0;
    const learningRate = opts.learningRate(epoch);
    setLearningRate(model.optimizer, learningRate);
    const augmentation = opts.augmentation?.(epoch);
    const random = augmentationRandom(opts.seed, epoch);
    for (const plain of batches(data.train, shuffledOrder(data.train.count, opts.seed, epoch), batchSize, data.shape)) {
      if (signal?.aborted) throw new InterruptedError(`interrupted during epoch ${epoch + 1}`);
      const batch = augmentation ? augmentBatch(plain, data.shape, augmentation, random) : plain;
      const { loss: batchLoss, accuracy: batchAcc } = await trainer.step(batch, stepSeed(opts.seed, epoch, b));
      lossSum += batchLoss * batch.count;
      accSum += batchAcc * batch.count;
      seen += batch.count;
      if (schedule.afterBatch(epoch, b)) applySharpness(spikingLayers, schedule.sharpness);
      events?.onBatch?.({ epoch: epoch + 1, batch: b + 1, batches: perEpoch, loss: lossSum / seen, accuracy: accSum / seen });
      b++;
      await tick();
    }
    const trainSeconds = (performance.now() - started) / 1000;
    const meanLoss = lossSum / seen;
    // The model as trained this epoch, before the epoch-end sharpening step.
    const unsharpened = schedule.sharpness.every((v) => v === 0);
    const val = data.validation;
    const valAccuracy = val ? evaluateAccuracy(model, val, data.shape) : null;
    const spikingValAccuracy = val ? withFullSharpness(spikingLayers, () => evaluateAccuracy(model, val, data.shape)) : null;
    if (signal?.aborted) throw new InterruptedError(`interrupted at the end of epoch ${epoch + 1}`);
    if (schedule.afterEpoch(epoch, meanLoss)) applySharpness(spikingLayers, schedule.sharpness);
    const metrics: EpochMetrics = {
      epoch: epoch + 1,
      loss: meanLoss,
      accuracy: accSum / seen,
      val_accuracy: valAccuracy,
      spiking_val_accuracy: spikingValAccuracy,
      sharpness: schedule.sharpness,
      phase: schedule.phase,
      learning_rate: learningRate,
      seconds: (performance.now() - started) / 1000,
      images_per_second: seen / trainSeconds,
    };
    await events?.onEpoch?.(metrics, unsharpened);
  }
  return { epochsDone: epoch, finished: schedule.finished };
}
