/**
 * Batching: gather images by index and normalise uint8 pixels to [0, 1] floats, one batch at a
 * time, so only the current batch ever exists as float32. Framework-free: the trainer wraps
 * `x` and `y` in tensors (`x` is already NHWC-flat, the layout tfjs expects).
 */
import type { DatasetSplit, ImageShape } from './types.js';

/** One batch: `x` = count × h × w × c floats in [0, 1] (HWC per image), `y` = class labels. */
export interface Batch {
  readonly x: Float32Array;
  readonly y: Uint8Array;
  /** Number of images in this batch (the last batch may be smaller). */
  readonly count: number;
}

/** v / 255 for every byte, computed once: a table lookup is exact and cheaper than a divide. */
const SCALE = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/** Pixels per image for a shape. */
export function pixelsPerImage(shape: ImageShape): number {
  return shape[0] * shape[1] * shape[2];
}

/**
 * Gathers the images at `indices` and scales them to [0, 1].
 * @throws RangeError on an index outside the split, or a shape that does not match the split.
 */
export function normaliseBatch(split: DatasetSplit, indices: ArrayLike<number>, shape: ImageShape): Batch {
  const pixels = pixelsPerImage(shape);
  if (split.images.length !== split.count * pixels) {
    throw new RangeError(`normaliseBatch: split holds ${split.images.length} bytes, not ${split.count} × ${pixels}`);
  }
  const count = indices.length;
  const x = new Float32Array(count * pixels);
  const y = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const j = indices[i]!;
    if (!(j >= 0 && j < split.count)) throw new RangeError(`normaliseBatch: index ${j} outside 0..${split.count - 1}`);
    const src = j * pixels;
    const dst = i * pixels;
    for (let p = 0; p < pixels; p++) x[dst + p] = SCALE[split.images[src + p]!]!;
    y[i] = split.labels[j]!;
  }
  return { x, y, count };
}

/** Options of `batches`. */
export interface BatchOptions {
  /** Drop a final batch smaller than `batchSize` (default false: every image is visited once). */
  readonly dropRemainder?: boolean;
}

/**
 * Yields consecutive batches of `batchSize` images, visiting the split in `order` (e.g. from
 * `shuffledOrder`, or `identityOrder` for evaluation).
 * @throws RangeError when `batchSize` is not a positive integer.
 */
export function* batches(
  split: DatasetSplit,
  order: ArrayLike<number>,
  batchSize: number,
  shape: ImageShape,
  options: BatchOptions = {},
): Generator<Batch, void, undefined> {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batches: batch size must be a positive integer, got ${batchSize}`);
  }
  const all = order instanceof Uint32Array ? order : Uint32Array.from(order as ArrayLike<number>);
  for (let start = 0; start < all.length; start += batchSize) {
    const end = Math.min(start + batchSize, all.length);
    if (options.dropRemainder && end - start < batchSize) return;
    yield normaliseBatch(split, all.subarray(start, end), shape);
  }
}

/** Number of batches `batches` yields. */
export function batchCount(count: number, batchSize: number, dropRemainder = false): number {
  return dropRemainder ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
}

/** 0, 1, …, count-1: file order, for evaluation. */
export function identityOrder(count: number): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  return order;
}
