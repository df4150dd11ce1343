/** Shape of one image: height, width, channels (NHWC without N, as tfjs expects). */
export type ImageShape = readonly [height: number, width: number, channels: number];

/**
 * One split of a dataset held in memory. Pixels stay uint8 (0..255) in memory and are
 * normalised to [0, 1] per batch (see `batches.ts`): 60,000 MNIST images cost 47 MB, not 188 MB.
 */
export interface DatasetSplit {
  /** Pixels, image after image, each in (h, w, c) order. */
  readonly images: Uint8Array;
  /** Class index of each image, 0..classes-1. */
  readonly labels: Uint8Array;
  /** Number of images. */
  readonly count: number;
}

/** A dataset: train and test splits, with an optional validation split carved from train. */
export interface Dataset {
  /** Registry name, e.g. "mnist". */
  readonly name: string;
  readonly shape: ImageShape;
  readonly classes: number;
  readonly classNames: readonly string[];
  readonly train: DatasetSplit;
  readonly validation?: DatasetSplit;
  readonly test: DatasetSplit;
}

/** Names of the datasets the registry knows. */
export const DATASET_NAMES = ['mnist', 'fashion-mnist', 'idx', 'cifar10'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

/** File names of an IDX dataset, relative to `DatasetSpec.path` (or absolute). */
export interface IdxFiles {
  readonly trainImages: string;
  readonly trainLabels: string;
  readonly testImages: string;
  readonly testLabels: string;
}

/** What to load: produced from the experiment config's `dataset` section, paths already absolute. */
export interface DatasetSpec {
  readonly name: DatasetName;
  /** Directory holding the files, for `idx` and `cifar10`. */
  readonly path?: string;
  /** For `idx`: file names; defaults to the standard MNIST names (optionally `.gz`). */
  readonly files?: Partial<IdxFiles>;
  /** Keep only the first N images of each split (after the deterministic split, before shuffling). */
  readonly limit?: { readonly train?: number; readonly test?: number };
  /** Fraction of the training split held out for validation, 0 ≤ v < 1. Defaults to 0. */
  readonly validation?: number;
  /** Seed for the validation split and any shuffling. Defaults to 0. */
  readonly seed?: number;
}
