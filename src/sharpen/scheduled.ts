/**
 * ScheduledSharpener: each spiking layer sharpens linearly, batch by batch, over its own window of
 * epochs [start, stop). Reproduces `ScheduledSharpener` of the original Whetstone (Severa et al.,
 * `whetstone/callbacks.py`), with the differences noted inline.
 */
import type { SharpeningConfig } from '../config/schema.js';
import { InputError } from '../errors.js';
import {
  CHECKPOINT_VERSION,
  restoreSharpness,
  type ScheduledCheckpoint,
  type SharpeningCheckpoint,
} from './checkpoint.js';
import { allSharp } from './mapping.js';
import type { SharpeningPhase, SharpeningSchedule } from './sharpening-schedule.js';

/** The `schedule: scheduled` branch of the sharpening config. */
export type ScheduledSharpeningConfig = Extract<SharpeningConfig, { schedule: 'scheduled' }>;

/** A layer's sharpening window: from the start of epoch `start` to the end of epoch `stop − 1`. */
export type SharpeningWindow = readonly [start: number, stop: number];

/**
 * The window of each spiking layer, input side first.
 *
 * Explicit `layers` are used as given (order does not matter) and must have one window per spiking
 * layer. Otherwise windows are generated as in the original `gen_schedule`: the first is
 * [start, start + duration), and each next one begins `intermission` epochs after the previous one
 * stops — e.g. start 2, duration 3, intermission 1, three layers → [2,5), [6,9), [10,13).
 * With order `uniform` a generated schedule gives every layer the first window (the original had
 * no uniform variant of a scheduled sharpener).
 */
export function scheduleWindows(config: ScheduledSharpeningConfig, layers: number): SharpeningWindow[] {
  if (config.layers !== undefined) {
    if (config.layers.length !== layers) {
      const n = config.layers.length;
      throw new InputError(
        `sharpening.layers: has ${n} window${n === 1 ? '' : 's'} but the model has ${layers} spiking layer${layers === 1 ? '' : 's'}`,
        'give one [start, stop] pair per spiking layer (the output layer counts), or use start/duration/intermission',
      );
    }
    return config.layers.map(([start, stop]) => [start, stop] as const);
  }
  const { start, duration, intermission } = config;
  if (start === undefined || duration === undefined) {
    // The schema refuses this; a hand-built config can still get here.
    throw new InputError('sharpening: needs either `layers` or both `start` and `duration`');
  }
  const windows: SharpeningWindow[] = [];
  let begin = start;
  for (let i = 0; i < layers; i++) {
    windows.push(config.order === 'uniform' ? [start, start + duration] : [begin, begin + duration]);
    begin += duration + intermission;
  }
  return windows;
}

/** Sharpens each layer from 0 at the start of its window to exactly 1 at the end of it, a little every batch. */
export class ScheduledSharpener implements SharpeningSchedule {
  /** Per-layer windows, input side first. */
  readonly windows: readonly SharpeningWindow[];
  /** Batches completed since training began: the whole state, since sharpness is a function of it. */
  private completedBatches = 0;
  private values: number[];

  constructor(
    config: ScheduledSharpeningConfig,
    layers: number,
    private readonly batchesPerEpoch: number,
    checkpoint?: SharpeningCheckpoint,
  ) {
    this.windows = scheduleWindows(config, layers);
    this.values = new Array<number>(layers).fill(0);
    if (checkpoint !== undefined) {
      const restored = restoreSharpness(checkpoint, 'scheduled', layers);
      const done = (checkpoint as ScheduledCheckpoint).completedBatches;
      if (!Number.isInteger(done) || done < 0) {
        throw new InputError(`checkpoint: sharpening completedBatches ${String(done)} must be an integer ≥ 0`);
      }
      this.completedBatches = done;
      this.values = this.sharpnessAt(done);
      if (restored.some((v, i) => v !== this.values[i])) {
        throw new InputError(
          'checkpoint: saved sharpness does not match the schedule (were the windows or the batch size changed?)',
        );
      }
    }
  }

  get sharpness(): readonly number[] {
    return [...this.values];
  }

  get finished(): boolean {
    return allSharp(this.values);
  }

  get phase(): SharpeningPhase {
    if (this.finished) return 'finished';
    // What the next batch will do: sharpen if it falls inside an unfinished layer's window.
    const nextEpoch = Math.floor(this.completedBatches / this.batchesPerEpoch);
    const active = this.windows.some(([start, stop], i) => nextEpoch >= start && nextEpoch < stop && this.values[i]! < 1);
    if (active) return 'sharpening';
    return this.values.every((v) => v === 0) ? 'training' : 'paused';
  }

  /**
   * Original: the first epoch never sharpened, because the callback learned the number of batches
   * per epoch during it (and its increments 1/(n·B − 1) were sized for that). Here the batch count
   * is known up front, so a window that starts at epoch 0 sharpens from the first batch.
   */
  afterBatch(epoch: number, batch: number): boolean {
    return this.moveTo(epoch * this.batchesPerEpoch + batch + 1);
  }

  /** Snaps to the end of `epoch`, so a missed or partial last batch still ends each window at exactly 1. */
  afterEpoch(epoch: number, _loss: number): boolean {
    return this.moveTo((epoch + 1) * this.batchesPerEpoch);
  }

  toJSON(): ScheduledCheckpoint {
    return {
      version: CHECKPOINT_VERSION,
      schedule: 'scheduled',
      sharpness: [...this.values],
      completedBatches: this.completedBatches,
    };
  }

  private moveTo(completed: number): boolean {
    this.completedBatches = completed;
    const before = this.values;
    this.values = this.sharpnessAt(completed);
    return this.values.some((v, i) => v !== before[i]);
  }

  /**
   * Sharpness after `completed` batches: (completed − start·B) / ((stop − start)·B), clipped to [0, 1].
   * A ratio of integers, so the last batch of epoch stop − 1 gives exactly 1 and layers past their
   * window stay at 1 (as the original's `elif current_epoch >= stop: sharpness = 1.0`).
   */
  private sharpnessAt(completed: number): number[] {
    const b = this.batchesPerEpoch;
    return this.windows.map(([start, stop]) => {
      const x = (completed - start * b) / ((stop - start) * b);
      return x <= 0 ? 0 : x >= 1 ? 1 : x;
    });
  }
}
