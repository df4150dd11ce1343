/**
 * SimpleSharpener: a fixed number of equal steps, one at the end of every epoch (or every batch)
 * from `start_epoch` on. Reproduces `SimpleSharpener` of the original Whetstone (Severa et al.,
 * `whetstone/callbacks.py`), with the differences noted inline.
 */
import type { SharpeningConfig } from '../config/schema.js';
import { InputError } from '../errors.js';
import { CHECKPOINT_VERSION, restoreSharpness, type SharpeningCheckpoint, type SimpleCheckpoint } from './checkpoint.js';
import { allSharp, layerSharpness } from './mapping.js';
import type { SharpeningPhase, SharpeningSchedule } from './sharpening-schedule.js';

/** The `schedule: simple` branch of the sharpening config. */
export type SimpleSharpeningConfig = Extract<SharpeningConfig, { schedule: 'simple' }>;

/**
 * Steps to sharpen the whole model: `steps` per layer when bottom-up, `steps` in all when uniform
 * (as in the original: total_steps = steps·L if bottom_up else steps).
 */
export function simpleTotalSteps(config: SimpleSharpeningConfig, layers: number): number {
  return config.order === 'bottom_up' ? config.steps * layers : config.steps;
}

/** Sharpens the model by 1/totalSteps at each step point, bottom-up or uniformly. */
export class SimpleSharpener implements SharpeningSchedule {
  private readonly totalSteps: number;
  private stepsTaken = 0;
  private values: number[];

  constructor(
    private readonly config: SimpleSharpeningConfig,
    private readonly layers: number,
    checkpoint?: SharpeningCheckpoint,
  ) {
    this.totalSteps = simpleTotalSteps(config, layers);
    this.values = new Array<number>(layers).fill(0);
    if (checkpoint !== undefined) {
      const restored = restoreSharpness(checkpoint, 'simple', layers);
      const steps = (checkpoint as SimpleCheckpoint).stepsTaken;
      if (!Number.isInteger(steps) || steps < 0 || steps > this.totalSteps) {
        throw new InputError(`checkpoint: sharpening stepsTaken ${String(steps)} is outside 0..${this.totalSteps}`);
      }
      this.stepsTaken = steps;
      this.values = this.sharpnessAfter(steps);
      // A mismatch means the config (steps, order) changed between the run and its resumption.
      if (restored.some((v, i) => v !== this.values[i])) {
        throw new InputError('checkpoint: saved sharpness does not match the simple schedule (were steps or order changed?)');
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
    return this.stepsTaken === 0 ? 'training' : 'sharpening';
  }

  afterBatch(epoch: number, _batch: number): boolean {
    // Original: on_batch_end reads self.current_epoch, which is only updated at the *end* of an
    // epoch, so per-batch stepping began one epoch late (and at once when start_epoch = 0). We use
    // the epoch being trained: the first step is the first batch of `start_epoch`.
    return this.config.per === 'batch' ? this.step(epoch) : false;
  }

  afterEpoch(epoch: number, _loss: number): boolean {
    return this.config.per === 'epoch' ? this.step(epoch) : false;
  }

  toJSON(): SimpleCheckpoint {
    return { version: CHECKPOINT_VERSION, schedule: 'simple', sharpness: [...this.values], stepsTaken: this.stepsTaken };
  }

  private step(epoch: number): boolean {
    if (epoch < this.config.start_epoch || this.stepsTaken >= this.totalSteps) return false;
    this.stepsTaken++;
    const before = this.values;
    this.values = this.sharpnessAfter(this.stepsTaken);
    return this.values.some((v, i) => v !== before[i]);
  }

  /**
   * Sharpness after `k` steps. The original accumulated `model_sharpness += amt` in floating point and
   * forced 1.0 on the last step; we compute k / totalSteps, which has no residue to accumulate, and
   * still force exactly 1.0 on the last step.
   */
  private sharpnessAfter(k: number): number[] {
    if (k >= this.totalSteps) return new Array<number>(this.layers).fill(1);
    return layerSharpness(k / this.totalSteps, this.layers, this.config.order);
  }
}
