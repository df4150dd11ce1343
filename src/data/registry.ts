/**
 * The dataset registry: one entry point, `loadDataset(spec)`, that dispatches on the name, reads
 * the files, then applies `limit` and `validation` (split.ts). Every user mistake is an
 * `InputError` with a one-line message.
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { InputError } from '../errors.js';
import { loadCifar10 } from './cifar.js';
import { loadFashionMnist } from './fashion.js';
import { describeFsError, readIdxSplit } from './idx.js';
import { loadMnist, MNIST_FILES } from './mnist.js';
import { applySplitOptions } from './split.js';
import { DATASET_NAMES, type Dataset, type DatasetName, type DatasetSpec, type DatasetSplit, type IdxFiles, type ImageShape } from './types.js';

/** A registry entry for help text. */
export interface DatasetDescription {
  readonly name: DatasetName;
  readonly description: string;
}

const DESCRIPTIONS: Readonly<Record<DatasetName, string>> = {
  mnist: 'handwritten digits, 28×28×1, 10 classes, 60,000/10,000 (built in, no download)',
  'fashion-mnist': 'clothing, 28×28×1, 10 classes, 60,000/10,000 fixed balanced split (built in, cached after first use)',
  idx: 'your IDX files (MNIST format, optionally .gz) in `path`; file names via `files`',
  cifar10: 'CIFAR-10 binary version in `path`, 32×32×3, 10 classes, 50,000/10,000',
};

/** Names and one-line descriptions of the known datasets, for `--help` and docs. */
export function describeDatasets(): DatasetDescription[] {
  return DATASET_NAMES.map((name) => ({ name, description: DESCRIPTIONS[name] }));
}

/** What a reader returns before the split options are applied. */
interface BaseData {
  readonly shape: ImageShape;
  readonly classNames: readonly string[];
  readonly train: DatasetSplit;
  readonly test: DatasetSplit;
}

/**
 * Loads a dataset and applies `limit` and `validation`.
 * @throws InputError for an unknown name, a missing or unexpected `path`, or any bad file.
 */
export async function loadDataset(spec: DatasetSpec): Promise<Dataset> {
  const base = readBase(spec);
  const { train, validation, test } = applySplitOptions(base, spec);
  const common = { name: spec.name, shape: base.shape, classes: base.classNames.length, classNames: base.classNames };
  return validation ? { ...common, train, validation, test } : { ...common, train, test };
}

function readBase(spec: DatasetSpec): BaseData {
  const name = spec.name as string;
  if (spec.files !== undefined && name !== 'idx') {
    throw new InputError(`dataset '${name}' takes no 'files' (only 'idx' does)`);
  }
  switch (spec.name) {
    case 'mnist': {
      rejectPath(spec);
      const m = loadMnist();
      return { shape: m.train.shape, classNames: m.classNames, train: strip(m.train), test: strip(m.test) };
    }
    case 'fashion-mnist':
      rejectPath(spec);
      return loadFashionMnist();
    case 'cifar10':
      return loadCifar10(requirePath(spec, 'the directory of the CIFAR-10 binary batches (data_batch_1.bin … test_batch.bin)'));
    case 'idx':
      return loadIdxDataset(spec.path, spec.files);
    default:
      throw new InputError(`unknown dataset '${name}' (known: ${DATASET_NAMES.join(', ')})`);
  }
}

function rejectPath(spec: DatasetSpec): void {
  if (spec.path !== undefined) {
    throw new InputError(`dataset '${spec.name}' is built in and takes no 'path'; use 'idx' or 'cifar10' to load files`);
  }
}

function requirePath(spec: DatasetSpec, what: string): string {
  if (!spec.path) throw new InputError(`dataset '${spec.name}' needs 'path': ${what}`);
  return spec.path;
}

/**
 * Loads an IDX dataset. File names are relative to `dir` unless absolute; a default (standard
 * MNIST) name is also tried with `.gz`. The class count is max(train label) + 1, and a test label
 * beyond it is an error: the network could never predict that class.
 * @throws InputError when `dir` is needed and missing, a file is missing or bad, or shapes disagree.
 */
export function loadIdxDataset(dir: string | undefined, files: Partial<IdxFiles> = {}): BaseData {
  const keys = ['trainImages', 'trainLabels', 'testImages', 'testLabels'] as const;
  if (dir === undefined && !keys.every((k) => files[k] !== undefined && isAbsolute(files[k]))) {
    throw new InputError(`dataset 'idx' needs 'path': the directory holding the IDX files`);
  }
  if (dir !== undefined) {
    let ok = false;
    try {
      ok = statSync(dir).isDirectory();
    } catch (err) {
      throw new InputError(`${dir}: cannot read IDX dataset directory: ${describeFsError(err)}`);
    }
    if (!ok) throw new InputError(`${dir}: not a directory (the idx dataset's 'path' must be a directory)`);
  }
  const resolve = (key: (typeof keys)[number]): string => {
    const given = files[key];
    if (given !== undefined) return isAbsolute(given) || dir === undefined ? given : join(dir, given);
    const plain = join(dir!, MNIST_FILES[key]);
    if (existsSync(plain) || !existsSync(`${plain}.gz`)) return plain; // a missing plain file is reported by name
    return `${plain}.gz`;
  };
  const trainImages = resolve('trainImages');
  const testImages = resolve('testImages');
  const train = readIdxSplit(trainImages, resolve('trainLabels'));
  const testLabelsFile = resolve('testLabels');
  const test = readIdxSplit(testImages, testLabelsFile);
  if (train.shape.join('×') !== test.shape.join('×')) {
    throw new InputError(
      `${testImages} has images of ${test.shape.join('×')} but ${trainImages} has ${train.shape.join('×')}: the shapes must match`,
    );
  }
  if (train.count === 0) throw new InputError(`${trainImages}: holds no images`);
  let classes = 0;
  for (const l of train.labels) if (l + 1 > classes) classes = l + 1;
  for (let i = 0; i < test.labels.length; i++) {
    if (test.labels[i]! >= classes) {
      throw new InputError(
        `${testLabelsFile}: label ${test.labels[i]} at index ${i} is out of range 0..${classes - 1} (the training labels' range)`,
      );
    }
  }
  const classNames = Array.from({ length: classes }, (_, i) => String(i));
  return { shape: train.shape, classNames, train: strip(train), test: strip(test) };
}

/** Keeps only the DatasetSplit fields (readIdxSplit also returns the shape). */
function strip(s: DatasetSplit): DatasetSplit {
  return { images: s.images, labels: s.labels, count: s.count };
}
