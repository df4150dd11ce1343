/**
 * Turning a dataset's file splits into the splits an experiment uses: `limit`, the validation
 * hold-out, and per-epoch shuffling. Everything here is deterministic given the seed, so a run
 * can be reproduced (and resumed mid-training) exactly.
 */
import { InputError } from '../errors.js';
import { SeededRandom } from '../util/random.js';
import type { DatasetSplit } from './types.js';

/** A new split holding the images at `indices`, in that order (pixels are copied). */
export function subset(split: DatasetSplit, indices: ArrayLike<number>): DatasetSplit {
  const count = indices.length;
  const pixels = split.count === 0 ? 0 : split.images.length / split.count;
  const images = new Uint8Array(count * pixels);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const j = indices[i]!;
    if (!(j >= 0 && j < split.count)) throw new RangeError(`subset: index ${j} outside 0..${split.count - 1}`);
    images.set(split.images.subarray(j * pixels, (j + 1) * pixels), i * pixels);
    labels[i] = split.labels[j]!;
  }
  return { images, labels, count };
}

/**
 * The first `n` images, in file order (a view: no copy). `undefined` or `n ≥ count` keeps all.
 * @throws InputError when `n` is not a positive integer.
 */
export function limitSplit(split: DatasetSplit, n: number | undefined, what = 'limit'): DatasetSplit {
  if (n === undefined) return split;
  if (!Number.isInteger(n) || n < 1) throw new InputError(`dataset ${what} must be a positive integer, got ${n}`);
  if (n >= split.count) return split;
  const pixels = split.images.length / split.count;
  return { images: split.images.subarray(0, n * pixels), labels: split.labels.subarray(0, n), count: n };
}

/**
 * Number of images held out for a validation fraction: round(count · fraction), but at least one
 * when the fraction is positive and never all of them (training needs at least one image).
 */
export function validationCount(count: number, fraction: number): number {
  if (fraction <= 0 || count < 2) return 0;
  return Math.min(count - 1, Math.max(1, Math.round(count * fraction)));
}

/**
 * Holds out `fraction` of `train` for validation. The held-out images are chosen by a
 * SeededRandom(seed) permutation; both parts keep file order (training shuffles per epoch anyway),
 * so the result depends only on (count, fraction, seed).
 * @throws InputError when the fraction is not in [0, 1).
 */
export function splitValidation(
  train: DatasetSplit,
  fraction: number,
  seed: number,
): { train: DatasetSplit; validation?: DatasetSplit } {
  if (!(fraction >= 0 && fraction < 1)) {
    throw new InputError(`dataset validation fraction must be at least 0 and below 1, got ${fraction}`);
  }
  const nv = validationCount(train.count, fraction);
  if (nv === 0) return { train };
  const perm = new SeededRandom(seed).permutation(train.count);
  const held = new Uint8Array(train.count);
  for (let i = 0; i < nv; i++) held[perm[i]!] = 1;
  const valIdx = new Uint32Array(nv);
  const trainIdx = new Uint32Array(train.count - nv);
  let v = 0;
  let t = 0;
  for (let i = 0; i < train.count; i++) {
    if (held[i]) valIdx[v++] = i;
    else trainIdx[t++] = i;
  }
  return { train: subset(train, trainIdx), validation: subset(train, valIdx) };
}

/** Options from a `DatasetSpec` that shape the splits. */
export interface SplitOptions {
  readonly limit?: { readonly train?: number; readonly test?: number };
  readonly validation?: number;
  readonly seed?: number;
}

/**
 * Applies `limit` then `validation`: the limit takes the first N of each file split, and the
 * validation fraction is carved out of the limited training split (limit.train = 1000 with
 * validation = 0.1 gives 900 train + 100 validation images).
 */
export function applySplitOptions(
  base: { readonly train: DatasetSplit; readonly test: DatasetSplit },
  options: SplitOptions,
): { train: DatasetSplit; validation?: DatasetSplit; test: DatasetSplit } {
  const test = limitSplit(base.test, options.limit?.test, 'limit.test');
  const limited = limitSplit(base.train, options.limit?.train, 'limit.train');
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new InputError(`dataset seed must be an integer, got ${seed}`);
  const { train, validation } = splitValidation(limited, options.validation ?? 0, seed);
  return validation ? { train, validation, test } : { train, test };
}

/**
 * The order in which to visit `count` training images in `epoch` (0-based): a permutation that
 * depends only on (count, seed, epoch), so a resumed run replays the same batches. The epoch is
 * mixed into the seed so epochs differ, and kept apart from the validation stream (which uses
 * SeededRandom(seed) itself).
 */
export function shuffledOrder(count: number, seed: number, epoch: number): Uint32Array {
  const mixed = (Math.imul(seed | 0, 0x27d4eb2f) ^ Math.imul((epoch | 0) + 1, 0x165667b1)) >>> 0;
  return new SeededRandom(mixed).permutation(count);
}
