/**
 * The one factory that picks a sharpening schedule from the config, and the planned length of the
 * deterministic ones. The interface they share is in sharpening-schedule.ts, a file of its own so
 * the three implementations import it without importing this factory (no cycle).
 */
import type { SharpeningConfig } from '../config/schema.js';
import type { SharpeningCheckpoint } from './checkpoint.js';
import type { SharpeningSchedule } from './sharpening-schedule.js';
import { AdaptiveSharpener } from './adaptive.js';
import { ScheduledSharpener, scheduleWindows } from './scheduled.js';
import { SimpleSharpener, simpleTotalSteps } from './simple.js';

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
