/**
 * IDX reader and writer (the format of the original MNIST files, http://yann.lecun.com/exdb/mnist/).
 *
 * Layout: a 4-byte big-endian magic number `0x00 0x00 <type> <ndims>`, then `ndims` big-endian
 * uint32 dimension sizes, then the data in C order. Only unsigned bytes (type 0x08) are supported:
 * that is what every image/label dataset in this format uses, and pixels stay uint8 in memory.
 *
 * Every failure is an `InputError` whose one-line message starts with the file path, because the
 * user can act on it (wrong file, truncated download) and the CLI prints it as is.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { InputError } from '../errors.js';
import type { ImageShape } from './types.js';
import { describeFsError, oneLine } from '../util/fs-errors.js';

/** Magic number of a uint8 label file: `[n]`. */
export const IDX_LABELS_MAGIC = 0x00000801;
/** Magic number of a uint8 image file: `[n, rows, cols]`. */
export const IDX_IMAGES_MAGIC = 0x00000803;
/** Magic number of a uint8 image file with channels last: `[n, rows, cols, channels]`. */
export const IDX_IMAGES_CHANNELS_MAGIC = 0x00000804;

/** A parsed IDX file: dimension sizes and the data bytes (an owned copy, not a view). */
export interface IdxArray {
  readonly dims: readonly number[];
  readonly data: Uint8Array;
}

/** Names of the IDX data types, for error messages. */
const TYPE_NAMES: Readonly<Record<number, string>> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

/** `0x00000803`: how magic numbers are printed in messages. */
export function hex32(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}

/**
 * Parses IDX bytes (already decompressed). `fileName` is used only in error messages.
 * @throws InputError on a bad magic number, an unsupported data type, or a size that does not match the header.
 */
export function parseIdx(bytes: Uint8Array, fileName: string): IdxArray {
  // A plain Uint8Array view: Buffer#slice would return a view, Uint8Array#slice copies.
  const u8 = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (u8.length < 4) {
    throw new InputError(`${fileName}: truncated IDX file: expected at least a 4-byte header, got ${u8.length} bytes`);
  }
  const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const magic = view.getUint32(0, false);
  const type = u8[2]!;
  const ndims = u8[3]!;
  if (u8[0] !== 0 || u8[1] !== 0 || ndims === 0 || TYPE_NAMES[type] === undefined) {
    throw new InputError(
      `${fileName}: bad magic number ${hex32(magic)}: not an IDX file ` +
        `(expected ${hex32(IDX_IMAGES_MAGIC)} for images or ${hex32(IDX_LABELS_MAGIC)} for labels)`,
    );
  }
  if (type !== 0x08) {
    throw new InputError(
      `${fileName}: unsupported IDX data type 0x${type.toString(16).padStart(2, '0')} (${TYPE_NAMES[type]}): only unsigned bytes (0x08) are supported`,
    );
  }
  const headerBytes = 4 + 4 * ndims;
  if (u8.length < headerBytes) {
    throw new InputError(
      `${fileName}: truncated IDX header: expected ${headerBytes} bytes for ${ndims} dimensions, got ${u8.length}`,
    );
  }
  const dims: number[] = [];
  let expected = 1;
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    expected *= d;
  }
  const got = u8.length - headerBytes;
  if (got < expected) {
    throw new InputError(
      `${fileName}: truncated data: expected ${expected} bytes for dimensions [${dims.join(', ')}], got ${got}`,
    );
  }
  if (got > expected) {
    throw new InputError(
      `${fileName}: ${got - expected} unexpected bytes after the data: expected ${expected} bytes for dimensions [${dims.join(', ')}], got ${got}`,
    );
  }
  return { dims, data: u8.slice(headerBytes) };
}

/**
 * Encodes a uint8 IDX file. Used for the Fashion-MNIST cache and by tests to write fixtures.
 * @throws RangeError when `data.length` does not equal the product of `dims` (a programming error).
 */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (expected !== data.length) {
    throw new RangeError(`encodeIdx: dims [${dims.join(', ')}] need ${expected} bytes, got ${data.length}`);
  }
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x00000800 | dims.length, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

/**
 * Reads a file's bytes, gunzipping it when it is gzip data. We sniff the gzip magic (1f 8b)
 * rather than trust the `.gz` suffix: browsers often decompress downloads but keep the name,
 * and an IDX file can never start with 0x1f (its first two bytes are zero).
 * @throws InputError naming the file when it cannot be read or decompressed.
 */
export function readMaybeGzip(file: string): Uint8Array {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new InputError(`${file}: cannot read file: ${describeFsError(err)}`);
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return gunzipSync(bytes);
    } catch (err) {
      throw new InputError(`${file}: corrupt gzip data: ${oneLine(err)}`);
    }
  }
  return bytes;
}

/** Reads and parses an IDX file (gzip or not). */
export function readIdxFile(file: string): IdxArray {
  return parseIdx(readMaybeGzip(file), file);
}

/** Images read from an IDX file: `count` images of `shape`, pixels in (h, w, c) order. */
export interface IdxImages {
  readonly count: number;
  readonly shape: ImageShape;
  readonly images: Uint8Array;
}

/**
 * Reads an image file: 3-D `[n, rows, cols]` (one channel) or 4-D `[n, rows, cols, channels]`
 * (channels last, i.e. already HWC).
 */
export function readIdxImages(file: string): IdxImages {
  const { dims, data } = readIdxFile(file);
  const [n, rows, cols, channels = 1] = dims;
  if (dims.length !== 3 && dims.length !== 4) {
    const magic = 0x00000800 | dims.length;
    throw new InputError(
      `${file}: bad magic number ${hex32(magic)} for an image file (expected ${hex32(IDX_IMAGES_MAGIC)}, or ${hex32(IDX_IMAGES_CHANNELS_MAGIC)} with channels)`,
    );
  }
  if (!rows || !cols || !channels) {
    throw new InputError(`${file}: image dimensions [${dims.slice(1).join(', ')}] contain a zero`);
  }
  return { count: n!, shape: [rows, cols, channels], images: data };
}

/**
 * Reads a label file `[n]`. With `classes`, every label must be in 0..classes-1.
 * @throws InputError naming the file and the first offending label.
 */
export function readIdxLabels(file: string, classes?: number): Uint8Array {
  const { dims, data } = readIdxFile(file);
  if (dims.length !== 1) {
    throw new InputError(
      `${file}: bad magic number ${hex32(0x00000800 | dims.length)} for a label file (expected ${hex32(IDX_LABELS_MAGIC)})`,
    );
  }
  if (classes !== undefined) checkLabels(data, classes, file);
  return data;
}

/** Throws an `InputError` naming `file` for the first label ≥ `classes`. */
export function checkLabels(labels: Uint8Array, classes: number, file: string): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]! >= classes) {
      throw new InputError(`${file}: label ${labels[i]} at index ${i} is out of range 0..${classes - 1}`);
    }
  }
}

/** A split read from a pair of IDX files, with its image shape. */
export interface IdxSplit {
  readonly shape: ImageShape;
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
  readonly count: number;
}

/**
 * Reads an images file and its labels file and checks that they hold the same number of items.
 * @throws InputError naming both files on a count mismatch.
 */
export function readIdxSplit(imagesFile: string, labelsFile: string, classes?: number): IdxSplit {
  const { count, shape, images } = readIdxImages(imagesFile);
  const labels = readIdxLabels(labelsFile, classes);
  if (labels.length !== count) {
    throw new InputError(
      `${imagesFile} has ${count} images but ${labelsFile} has ${labels.length} labels: the counts must match`,
    );
  }
  return { shape, images, labels, count };
}

export { describeFsError, oneLine } from '../util/fs-errors.js';
