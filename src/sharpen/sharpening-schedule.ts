/**
 * The shared face of every sharpening schedule.
 *
 * A schedule is a pure state machine: it is told where training stands (epoch, batch, loss) and
 * answers with the sharpness each spiking layer should have. It never touches tfjs; a thin
 * callback in src/train copies `sharpness` into the model's non-trainable variables whenever a
 * call returns true, and stops training once `finished`.
 */
import type { SharpeningCheckpoint } from './checkpoint.js';

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
