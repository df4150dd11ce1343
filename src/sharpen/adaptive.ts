/**
 * AdaptiveSharpener: the training loss decides when to sharpen. Sharpening starts once the loss has
 * stopped improving significantly for more than `patience` epochs, pauses when it rises
 * significantly, and resumes when it has settled again. Reproduces `AdaptiveSharpener` of the
 * original Whetstone (Severa et al., `whetstone/callbacks.py`), with the differences noted inline.
 */
import type { SharpeningConfig } from '../config/schema.js';
import { InputError } from '../errors.js';
import {
  CHECKPOINT_VERSION,
  checkFinite,
  restoreSharpness,
  type AdaptiveCheckpoint,
  type SharpeningCheckpoint,
} from './checkpoint.js';
import { allSharp } from './mapping.js';
import type { SharpeningPhase, SharpeningSchedule } from './sharpening-schedule.js';

/** The `schedule: adaptive` branch of the sharpening config. */
export type AdaptiveSharpeningConfig = Extract<SharpeningConfig, { schedule: 'adaptive' }>;

/** Initial reference loss: the original's `1000000.0` (finite, so the state stays plain JSON). */
const INITIAL_REFERENCE_LOSS = 1_000_000;
/** Bottom-up: a layer this close to 1 is snapped to 1 (original: `1.0 - s < 0.001`). */
const SNAP_BOTTOM_UP = 0.001;
/** Uniform: all layers this close to 1 are snapped to 1 (original: `1.0 - s < 0.000001`). */
const SNAP_UNIFORM = 0.000001;

/** Loss-driven sharpening, one layer at a time (bottom-up) or all together (uniform). */
export class AdaptiveSharpener implements SharpeningSchedule {
  private values: number[];
  private sharpening = false;
  private referenceLoss = INITIAL_REFERENCE_LOSS;
  private epochsNoImprovement = 0;
  /** Overshoot protection: set when a layer finishes; no more sharpening until the epoch ends. */
  private wait = false;
  private started = false;

  constructor(
    private readonly config: AdaptiveSharpeningConfig,
    layers: number,
    private readonly batchesPerEpoch: number,
    checkpoint?: SharpeningCheckpoint,
  ) {
    this.values = new Array<number>(layers).fill(0);
    if (checkpoint !== undefined) {
      this.values = restoreSharpness(checkpoint, 'adaptive', layers);
      const cp = checkpoint as AdaptiveCheckpoint;
      this.referenceLoss = checkFinite('referenceLoss', cp.referenceLoss);
      const n = cp.epochsNoImprovement;
      if (!Number.isInteger(n) || n < 0) {
        throw new InputError(`checkpoint: sharpening epochsNoImprovement ${String(n)} must be an integer ≥ 0`);
      }
      this.epochsNoImprovement = n;
      this.sharpening = cp.sharpening === true;
      this.wait = cp.wait === true;
      this.started = cp.started === true;
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
    if (this.sharpening) return 'sharpening';
    return this.started ? 'paused' : 'training';
  }

  /**
   * While sharpening, raises sharpness by (rate per epoch) / batchesPerEpoch.
   * Original: batches_per_epoch was learned at the end of epoch 0; here it is known up front.
   */
  afterBatch(_epoch: number, _batch: number): boolean {
    if (!this.sharpening) return false;
    const unfinished = this.values.findIndex((s) => s < 1);
    if (unfinished < 0) {
      this.sharpening = false;
      return false;
    }
    const before = this.values;
    this.values = this.config.order === 'bottom_up' ? this.bottomUpStep(unfinished) : this.uniformStep();
    return this.values.some((v, i) => v !== before[i]);
  }

  /**
   * Compares `loss` with the reference loss (the loss after the last significant change) and starts
   * or pauses sharpening. Nothing is decided before epoch `min_init_epochs − 1`: until then the
   * reference simply follows the loss.
   */
  afterEpoch(epoch: number, loss: number): boolean {
    const c = this.config;
    this.wait = false;
    if (!Number.isFinite(loss)) {
      // Not in the original, where a NaN loss became the reference and poisoned every later
      // comparison. Here it counts as a significant rise (pause) and never becomes the reference,
      // so the state stays plain JSON and training can recover.
      if (epoch >= c.min_init_epochs - 1) {
        this.epochsNoImprovement = this.sharpening ? 0 : this.epochsNoImprovement + 1;
        this.sharpening = false;
      }
      return false;
    }
    const change = (loss - this.referenceLoss) / this.referenceLoss;
    const degraded = change >= c.sig_increase;
    const improved = !degraded && change <= -c.sig_decrease;
    if (epoch >= c.min_init_epochs - 1) {
      if (improved) {
        this.referenceLoss = loss;
        this.epochsNoImprovement = 0;
      } else {
        this.epochsNoImprovement++;
      }
      if (this.sharpening) {
        if (degraded) {
          this.referenceLoss = loss;
          this.epochsNoImprovement = 0;
          this.sharpening = false;
        }
      } else if (this.epochsNoImprovement > c.patience) {
        this.referenceLoss = loss;
        this.epochsNoImprovement = 0;
        this.sharpening = true;
        this.started = true;
      }
    } else {
      this.referenceLoss = loss;
    }
    return false;
  }

  toJSON(): AdaptiveCheckpoint {
    return {
      version: CHECKPOINT_VERSION,
      schedule: 'adaptive',
      sharpness: [...this.values],
      sharpening: this.sharpening,
      referenceLoss: this.referenceLoss,
      epochsNoImprovement: this.epochsNoImprovement,
      wait: this.wait,
      started: this.started,
    };
  }

  /** Per-batch amount for a layer at sharpness `s`: rate, or cz_rate in the critical zone (s ≥ critical). */
  private amount(s: number): number {
    const c = this.config;
    return (s >= c.critical ? c.cz_rate : c.rate) / this.batchesPerEpoch;
  }

  /** Sharpens the first unfinished layer; once it reaches 1, waits for the epoch to end. */
  private bottomUpStep(idx: number): number[] {
    const values = [...this.values];
    if (this.wait) return values;
    const current = values[idx]!;
    let amount = this.amount(current);
    if (idx === 0) amount *= this.config.first_layer_relative_rate;
    let next = Math.min(1, current + amount);
    if (1 - next < SNAP_BOTTOM_UP) next = 1;
    values[idx] = next;
    if (next === 1) this.wait = true;
    return values;
  }

  /**
   * Sharpens every layer by the amount that layer 0's sharpness calls for. As in the original,
   * first_layer_relative_rate applies only bottom-up, and uniform sharpening has no overshoot wait.
   */
  private uniformStep(): number[] {
    let next = Math.min(1, this.values[0]! + this.amount(this.values[0]!));
    if (1 - next < SNAP_UNIFORM) next = 1;
    return this.values.map(() => next);
  }
}
