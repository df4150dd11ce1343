/**
 * Training-time data augmentation: random translations (zero-filled) and horizontal flips of the
 * images of one batch, drawn from a seeded stream so that a seed and an epoch reproduce the same
 * augmented batches (and a run resumed at an epoch boundary sees the batches an uninterrupted run
 * would have seen). Framework-free: it works on the float batch `batches` yields.
 */
import { SeededRandom } from '../util/random.js';
import type { Batch } from './batches.js';
import type { ImageShape } from './types.js';

/** What to do to each training image; the identity when `shift` is 0 and `flipHorizontal` false. */
export interface Augmentation {
  /** Largest translation in pixels, independently along each axis (uniform in −shift…shift). */
  readonly shift: number;
  /** Mirror left–right with probability ½. */
  readonly flipHorizontal: boolean;
}

export function isIdentity(aug: Augmentation | undefined): boolean {
  return aug === undefined || (aug.shift === 0 && !aug.flipHorizontal);
}

/** The stream an epoch's augmentation draws from: independent of the shuffling stream. */
export function augmentationRandom(seed: number, epoch: number): SeededRandom {
  return new SeededRandom((Math.imul(seed | 0, 0x2c1b3c6d) ^ Math.imul((epoch | 0) + 1, 0x297a2d39) ^ 0x5bd1e995) >>> 0);
}

/**
 * A new batch with every image translated by (dy, dx) ∈ [−shift, shift]² (pixels moved out of
 * the frame are lost, pixels moved in are 0) and, when asked, mirrored with probability ½.
 * Draws exactly three numbers from `random` per image, whatever the options, so that the
 * stream stays aligned across images.
 * @throws RangeError when `shift` is negative, not an integer, or not smaller than the image.
 */
export function augmentBatch(batch: Batch, shape: ImageShape, aug: Augmentation, random: SeededRandom): Batch {
  const [h, w, c] = shape;
  const { shift } = aug;
  if (!Number.isInteger(shift) || shift < 0 || shift >= Math.min(h, w)) {
    throw new RangeError(`augmentBatch: shift must be an integer in 0..${Math.min(h, w) - 1}, got ${shift}`);
  }
  const pixels = h * w * c;
  const x = new Float32Array(batch.x.length);
  for (let i = 0; i < batch.count; i++) {
    const dy = random.int(2 * shift + 1) - shift;
    const dx = random.int(2 * shift + 1) - shift;
    const flip = random.next() < 0.5 && aug.flipHorizontal;
    const base = i * pixels;
    // Output (r, q) takes input (r - dy, q' - dx), where q' is q mirrored when flipping.
    for (let r = Math.max(0, dy); r < Math.min(h, h + dy); r++) {
      const srcRow = base + (r - dy) * w * c;
      const dstRow = base + r * w * c;
      for (let q = Math.max(0, dx); q < Math.min(w, w + dx); q++) {
        const sq = flip ? w - 1 - (q - dx) : q - dx;
        const src = srcRow + sq * c;
        const dst = dstRow + q * c;
        for (let k = 0; k < c; k++) x[dst + k] = batch.x[src + k]!;
      }
    }
  }
  return { x, y: batch.y, count: batch.count };
}
