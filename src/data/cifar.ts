/**
 * CIFAR-10, binary version (https://www.cs.toronto.edu/~kriz/cifar.html, "cifar-10-binary.tar.gz").
 *
 * Each record is 1 label byte followed by 3072 pixel bytes: the 1024 red values of the 32×32 image
 * in row-major order, then the 1024 green, then the 1024 blue (CHW). tfjs wants HWC, so we
 * transpose once at load time rather than in every batch.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { describeFsError } from './idx.js';
import type { DatasetSplit, ImageShape } from './types.js';

/** Shape of a CIFAR-10 image in memory (HWC). */
export const CIFAR_SHAPE: ImageShape = [32, 32, 3];
/** Bytes per record: 1 label + 3 × 32 × 32 pixels. */
export const CIFAR_RECORD_BYTES = 1 + 3 * 32 * 32;
/** The training batches, in the order their records are concatenated. */
export const CIFAR_TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
/** The test batch. */
export const CIFAR_TEST_FILE = 'test_batch.bin';
/** Class names used when the directory has no `batches.meta.txt`. */
export const CIFAR_CLASS_NAMES = [
  'airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck',
] as const;

const PIXELS = 32 * 32;
const CLASSES = 10;

/**
 * Decodes the records of one batch file: CHW pixels become HWC, labels are checked to be 0..9.
 * @param bytes the file's contents; `fileName` is used only in error messages.
 * @throws InputError when the size is not a multiple of 3073 or a label is above 9.
 */
export function parseCifarBatch(bytes: Uint8Array, fileName: string): DatasetSplit {
  if (bytes.length === 0 || bytes.length % CIFAR_RECORD_BYTES !== 0) {
    throw new InputError(
      `${fileName}: size ${bytes.length} bytes is not a positive multiple of ${CIFAR_RECORD_BYTES} ` +
        `(1 label byte + 3072 pixel bytes per image): truncated, or not the CIFAR-10 binary version`,
    );
  }
  const count = bytes.length / CIFAR_RECORD_BYTES;
  const labels = new Uint8Array(count);
  const images = new Uint8Array(count * 3 * PIXELS);
  for (let r = 0; r < count; r++) {
    const src = r * CIFAR_RECORD_BYTES;
    const label = bytes[src]!;
    if (label >= CLASSES) {
      throw new InputError(`${fileName}: label ${label} in record ${r} is out of range 0..${CLASSES - 1}`);
    }
    labels[r] = label;
    const dst = r * 3 * PIXELS;
    // Pixel p of channel c sits at src + 1 + c·1024 + p; in HWC it goes to dst + 3p + c.
    for (let c = 0; c < 3; c++) {
      const plane = src + 1 + c * PIXELS;
      for (let p = 0; p < PIXELS; p++) images[dst + 3 * p + c] = bytes[plane + p]!;
    }
  }
  return { images, labels, count };
}

/** Concatenates splits in order (the five training batches become one split). */
function concat(parts: readonly DatasetSplit[]): DatasetSplit {
  const count = parts.reduce((n, p) => n + p.count, 0);
  const images = new Uint8Array(count * 3 * PIXELS);
  const labels = new Uint8Array(count);
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * 3 * PIXELS);
    labels.set(p.labels, at);
    at += p.count;
  }
  return { images, labels, count };
}

function readBatch(file: string): DatasetSplit {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new InputError(`${file}: cannot read CIFAR-10 batch: ${describeFsError(err)}`);
  }
  return parseCifarBatch(bytes, file);
}

/**
 * Class names from `batches.meta.txt` (one per line; blank lines ignored), else the standard ten.
 * @throws InputError when the file exists but does not list exactly ten names.
 */
export function readCifarClassNames(dir: string): string[] {
  const file = join(dir, 'batches.meta.txt');
  if (!existsSync(file)) return [...CIFAR_CLASS_NAMES];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(`${file}: cannot read class names: ${describeFsError(err)}`);
  }
  const names = text.split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length !== CLASSES) {
    throw new InputError(`${file}: lists ${names.length} class names, expected ${CLASSES} (one per line)`);
  }
  return names;
}

/**
 * Finds the directory that holds the batch files: `dir` itself, or `dir/cifar-10-batches-bin`
 * (what the official archive extracts to), so either directory can be given.
 */
export function resolveCifarDir(dir: string): string {
  const nested = join(dir, 'cifar-10-batches-bin');
  if (!existsSync(join(dir, CIFAR_TRAIN_FILES[0]!)) && existsSync(join(nested, CIFAR_TRAIN_FILES[0]!))) {
    return nested;
  }
  return dir;
}

/** CIFAR-10 in memory: 50,000 training and 10,000 test images for the official files. */
export interface CifarData {
  readonly dir: string;
  readonly shape: ImageShape;
  readonly classNames: string[];
  readonly train: DatasetSplit;
  readonly test: DatasetSplit;
}

/**
 * Loads CIFAR-10 (binary version) from a directory.
 * @throws InputError naming the directory when it is missing, or the first missing or bad file.
 */
export function loadCifar10(dir: string): CifarData {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (err) {
    throw new InputError(`${dir}: cannot read CIFAR-10 directory: ${describeFsError(err)}`);
  }
  if (!isDir) throw new InputError(`${dir}: not a directory (expected the CIFAR-10 binary batches directory)`);
  const root = resolveCifarDir(dir);
  // Check every file first, so the message names the first missing one before any slow work.
  for (const name of [...CIFAR_TRAIN_FILES, CIFAR_TEST_FILE]) {
    const file = join(root, name);
    if (!existsSync(file)) {
      throw new InputError(
        `${file}: missing CIFAR-10 batch file (expected ${CIFAR_TRAIN_FILES.join(', ')} and ${CIFAR_TEST_FILE} from cifar-10-binary.tar.gz)`,
      );
    }
  }
  const train = concat(CIFAR_TRAIN_FILES.map((name) => readBatch(join(root, name))));
  const test = readBatch(join(root, CIFAR_TEST_FILE));
  return { dir: root, shape: CIFAR_SHAPE, classNames: readCifarClassNames(root), train, test };
}
