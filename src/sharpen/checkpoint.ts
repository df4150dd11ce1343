/**
 * The saved state of a sharpening schedule, and the checks made when a run resumes from it.
 * A checkpoint is plain JSON (no Infinity, no NaN, no classes) so it can sit in a run directory
 * next to the weights and survive `JSON.stringify` → `JSON.parse` unchanged.
 */
import { InputError } from '../errors.js';

/** Format version of every sharpening checkpoint; bump when a field changes meaning. */
export const CHECKPOINT_VERSION = 1;

interface CheckpointBase {
  /** Format version. Always {@link CHECKPOINT_VERSION}. */
  readonly version: 1;
  /** Per spiking layer, input side first. */
  readonly sharpness: number[];
}

/** Full state of a {@link SimpleSharpener}. */
export interface SimpleCheckpoint extends CheckpointBase {
  readonly schedule: 'simple';
  /** Steps taken so far (the model sharpness is stepsTaken / totalSteps). */
  readonly stepsTaken: number;
}

/** Full state of a {@link ScheduledSharpener}: its sharpness is a function of the batches completed. */
export interface ScheduledCheckpoint extends CheckpointBase {
  readonly schedule: 'scheduled';
  /** Batches completed since training began (epoch · batchesPerEpoch + batch + 1). */
  readonly completedBatches: number;
}

/** Full state of an {@link AdaptiveSharpener}. */
export interface AdaptiveCheckpoint extends CheckpointBase {
  readonly schedule: 'adaptive';
  /** Whether sharpness is being raised on each batch. */
  readonly sharpening: boolean;
  /** Loss after the last significant change. */
  readonly referenceLoss: number;
  /** Epochs since the loss last improved significantly. */
  readonly epochsNoImprovement: number;
  /** Overshoot protection: a layer finished this epoch, so no more sharpening until it ends. */
  readonly wait: boolean;
  /** Whether sharpening has ever begun (tells 'training' from 'paused'). */
  readonly started: boolean;
}

/** Plain, JSON-serialisable full state of any sharpening schedule, for resuming a run. */
export type SharpeningCheckpoint = SimpleCheckpoint | ScheduledCheckpoint | AdaptiveCheckpoint;

/**
 * Checks that `checkpoint` belongs to a schedule of kind `schedule` over `layers` spiking layers
 * and returns a fresh copy of its sharpness. Throws {@link InputError} with a one-line cause otherwise.
 */
export function restoreSharpness(
  checkpoint: SharpeningCheckpoint,
  schedule: SharpeningCheckpoint['schedule'],
  layers: number,
): number[] {
  if (checkpoint.version !== CHECKPOINT_VERSION) {
    throw new InputError(`checkpoint: sharpening state has version ${String(checkpoint.version)}, expected ${CHECKPOINT_VERSION}`);
  }
  if (checkpoint.schedule !== schedule) {
    throw new InputError(
      `checkpoint: sharpening state is for schedule '${checkpoint.schedule}' but the config says '${schedule}'`,
    );
  }
  const values = checkpoint.sharpness;
  if (!Array.isArray(values) || values.length !== layers) {
    const n = Array.isArray(values) ? values.length : 0;
    throw new InputError(`checkpoint: sharpening state has ${n} layers but the model has ${layers} spiking layers`);
  }
  for (const v of values) {
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
      throw new InputError(`checkpoint: sharpness ${String(v)} is outside [0, 1]`);
    }
  }
  return [...values];
}

/** Throws {@link InputError} unless `value` is a finite number (for scalar checkpoint fields). */
export function checkFinite(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InputError(`checkpoint: sharpening ${name} must be a finite number, got ${String(value)}`);
  }
  return value;
}
