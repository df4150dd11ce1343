/**
 * Fresh dropout masks at every training step.
 *
 * tfjs-layers' Dropout hands its constructor `seed` to `tf.randomUniform` on every call, and a
 * seeded `randomUniform` starts a new generator each time: a seeded Dropout drops the same units
 * in every batch (a fixed mask per position in the batch, not dropout). Unseeded, it is random
 * but not reproducible. So before each training step the trainer gives every Dropout layer a
 * seed derived from the run's seed, the step and the slice of the batch (parallel.ts): a new mask
 * every step, the same masks on every rerun and after `--resume`.
 */
import { SeededRandom } from '../util/random.js';
import { tf } from './tf.js';

/** The seed of one training step: a function of the run's seed, the epoch and the batch (0-based). */
export function stepSeed(seed: number, epoch: number, batch: number): number {
  return new SeededRandom((Math.imul(seed | 0, 0x3c6ef372) ^ Math.imul((epoch | 0) + 1, 0x7f4a7c15) ^ Math.imul((batch | 0) + 1, 0x1b873593)) >>> 0).fork();
}

/**
 * Sets the seed of every Dropout layer for the next step: drawn from `step` (stepSeed), the
 * layer's position and `slice` (the worker computing this part of the batch).
 */
export function reseedDropout(model: tf.LayersModel, step: number, slice: number): void {
  model.layers.forEach((layer, i) => {
    if (layer.getClassName() !== 'Dropout') return;
    const seed = new SeededRandom((Math.imul(step | 0, 0x2545f491) ^ Math.imul(i + 1, 0x6a09e667) ^ Math.imul(slice + 1, 0x3243f6a9)) >>> 0).fork();
    // Dropout.call reads `this.seed` each time it runs (tfjs-layers core.js).
    (layer as unknown as { seed: number }).seed = seed;
  });
}
