/**
 * The shared face of every sharpening schedule, and the one factory that picks one from the config.
 *
 * A schedule is a pure state machine: it is told where training stands (epoch, batch, loss) and
 * answers with the sharpness each spiking layer should have. It never touches tfjs; a thin
 * callback in src/train copies `sharpness` into the model's non-trainable variables whenever a
 * call returns true, and stops training once `finished`.
 */
import type { SharpeningConfig } from '../config/schema.js';
import type { SharpeningCheckpoint } from './checkpoint.js';
import { AdaptiveSharpener } from './adaptive.js';
import { ScheduledSharpener, scheduleWindows } from './scheduled.js';
import { SimpleSharpener, simpleTotalSteps } from './simple.js';

/**
 * Where a schedule stands, for display: before any sharpening, raising sharpness, resting between
 * phases of sharpening (adaptive after a loss spike, scheduled during an intermission), or done.
 */
export type SharpeningPhase = 'training' | 'sharpening' | 'paused' | 'finished';

/** A sharpening schedule: per-layer sharpness as a function of training progress (and, for adaptive, loss). */
export interface SharpeningSchedule {
  /** Sharpness per spiking layer, input side first, each in [0, 1]. A fresh copy on every read. */
  readonly sharpness: readonly number[];
  /** True when every layer is exactly 1.0: the network is a spiking network and training may stop. */
  readonly finished: boolean;
  /** Where sharpening stands, for display. */
  readonly phase: SharpeningPhase;
  /**
   * Call at the end of every batch (`epoch` and `batch` 0-based). Returns true if the sharpness changed,
   * i.e. the model's sharpness variables must be updated.
   */
  afterBatch(epoch: number, batch: number): boolean;
  /**
   * Call at the end of every epoch (0-based) with that epoch's mean training loss.
   * Returns true if the sharpness changed.
   */
  afterEpoch(epoch: number, loss: number): boolean;
  /** Plain JSON-serialisable full state; pass it to {@link createSchedule} to resume exactly. */
  toJSON(): SharpeningCheckpoint;
}

function checkPositiveInt(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`createSchedule: ${name} must be a positive integer, got ${value}`);
  }
}

/**
 * Builds the schedule that `config` describes for a model with `layers` spiking layers and
 * `batchesPerEpoch` batches in each epoch, resuming from `checkpoint` when given.
 *
 * Throws `InputError` when the config does not fit the model (an explicit `layers` schedule with the
 * wrong number of windows) or when the checkpoint belongs to another schedule or model.
 */
export function createSchedule(
  config: SharpeningConfig,
  layers: number,
  batchesPerEpoch: number,
  checkpoint?: SharpeningCheckpoint,
): SharpeningSchedule {
  checkPositiveInt('layers', layers);
  checkPositiveInt('batchesPerEpoch', batchesPerEpoch);
  switch (config.schedule) {
    case 'simple':
      return new SimpleSharpener(config, layers, checkpoint);
    case 'scheduled':
      return new ScheduledSharpener(config, layers, batchesPerEpoch, checkpoint);
    case 'adaptive':
      return new AdaptiveSharpener(config, layers, batchesPerEpoch, checkpoint);
  }
}

/**
 * How many epochs a deterministic schedule needs before every layer is exactly 1, so the CLI can warn
 * when `training.epochs` is smaller. `undefined` for adaptive, whose pace depends on the loss.
 *
 * - simple, per epoch: start_epoch + total steps (one step at the end of each epoch from start_epoch on);
 * - simple, per batch: start_epoch + ⌈total steps / batchesPerEpoch⌉;
 * - scheduled: the latest `stop` of any layer's window.
 * Throws `InputError` for an explicit schedule whose length does not match `layers`.
 */
export function plannedEpochs(config: SharpeningConfig, layers: number, batchesPerEpoch: number): number | undefined {
  checkPositiveInt('layers', layers);
  checkPositiveInt('batchesPerEpoch', batchesPerEpoch);
  switch (config.schedule) {
    case 'simple': {
      const total = simpleTotalSteps(config, layers);
      return config.start_epoch + (config.per === 'epoch' ? total : Math.ceil(total / batchesPerEpoch));
    }
    case 'scheduled':
      return Math.max(...scheduleWindows(config, layers).map(([, stop]) => stop));
    case 'adaptive':
      return undefined;
  }
}
