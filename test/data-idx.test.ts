import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeIdx, parseIdx, readIdxFile, readIdxImages, readIdxLabels, readIdxSplit } from '../src/data/idx.js';
import { expectInputError, idxBytes, tempDir, writeIdx, writeIdxPair } from './helpers/data-fixtures.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

describe('IDX reading', () => {
  it('round-trips an image file and a label file', () => {
    const pair = writeIdxPair(dir, 'train', 5, 4, 3, 3);
    const images = readIdxImages(pair.images);
    expect(images.count).toBe(5);
    expect(images.shape).toEqual([4, 3, 1]);
    expect(Array.from(images.images)).toEqual(Array.from(pair.pixels));
    expect(Array.from(readIdxLabels(pair.labels, 3))).toEqual(Array.from(pair.labelValues));
    const split = readIdxSplit(pair.images, pair.labels, 3);
    expect(split.count).toBe(5);
  });

  it('matches encodeIdx byte for byte and returns owned arrays', () => {
    const data = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    const bytes = encodeIdx([1, 2, 3], data);
    expect(Buffer.from(bytes).equals(idxBytes(0x08, [1, 2, 3], data))).toBe(true);
    const parsed = parseIdx(bytes, 'x');
    expect(parsed.dims).toEqual([1, 2, 3]);
    expect(parsed.data.byteOffset).toBe(0);
    expect(parsed.data.buffer.byteLength).toBe(6);
  });

  it('reads 4-D image files as channels last', () => {
    const data = Uint8Array.from({ length: 2 * 2 * 3 * 3 }, (_, i) => i);
    const file = writeIdx(dir, 'rgb-idx4-ubyte', [2, 2, 3, 3], data);
    const images = readIdxImages(file);
    expect(images.shape).toEqual([2, 3, 3]);
    expect(images.count).toBe(2);
  });

  it('gunzips .gz files, and sniffs gzip data whatever the name', () => {
    const pair = writeIdxPair(dir, 'test', 3, 2, 2, 2, true);
    expect(pair.images.endsWith('.gz')).toBe(true);
    expect(Array.from(readIdxImages(pair.images).images)).toEqual(Array.from(pair.pixels));
    // A browser-decompressed download keeps its .gz name but holds raw IDX.
    const raw = join(dir, 'raw.gz');
    writeFileSync(raw, idxBytes(0x08, [2], [1, 0]));
    expect(Array.from(readIdxLabels(raw))).toEqual([1, 0]);
    const hidden = join(dir, 'gzip-without-suffix');
    writeFileSync(hidden, gzipSync(idxBytes(0x08, [2], [0, 1])));
    expect(Array.from(readIdxLabels(hidden))).toEqual([0, 1]);
  });
});

describe('IDX errors', () => {
  it('missing file', () => {
    const file = join(dir, 'nope-idx3-ubyte');
    expectInputError(() => readIdxImages(file), file, 'no such file');
  });

  it('bad magic number, printed in hex with what was expected', () => {
    const file = join(dir, 'bad');
    writeFileSync(file, Buffer.from([0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0]));
    expectInputError(() => readIdxImages(file), file, '0x12345678', '0x00000803');
  });

  it('a label file given as images (and vice versa) is a bad magic number', () => {
    const pair = writeIdxPair(dir, 'train', 2);
    expectInputError(() => readIdxImages(pair.labels), pair.labels, '0x00000801', 'expected 0x00000803');
    expectInputError(() => readIdxLabels(pair.images), pair.images, '0x00000803', 'expected 0x00000801');
  });

  it('unsupported data type', () => {
    const file = join(dir, 'floats');
    writeFileSync(file, idxBytes(0x0d, [1], [0, 0, 0, 0]));
    expectInputError(() => readIdxFile(file), file, 'unsupported', '0x0d', 'float32');
  });

  it('truncated data says expected and actual byte counts', () => {
    const file = join(dir, 'short');
    writeFileSync(file, idxBytes(0x08, [3, 2, 2], new Array(10).fill(7)));
    expectInputError(() => readIdxImages(file), file, 'truncated', 'expected 12 bytes', 'got 10');
    const header = join(dir, 'header');
    writeFileSync(header, Buffer.from([0, 0, 8, 3, 0, 0]));
    expectInputError(() => readIdxImages(header), header, 'truncated');
  });

  it('corrupt gzip', () => {
    const file = join(dir, 'broken.gz');
    writeFileSync(file, gzipSync(idxBytes(0x08, [4], [1, 2, 3, 4])).subarray(0, 12));
    expectInputError(() => readIdxFile(file), file, 'gzip');
  });

  it('image/label count mismatch names both files', () => {
    const a = writeIdxPair(dir, 'a', 4);
    const b = writeIdxPair(dir, 'b', 3);
    expectInputError(() => readIdxSplit(a.images, b.labels), a.images, b.labels, '4 images', '3 labels');
  });

  it('label out of range', () => {
    const file = writeIdx(dir, 'labels', [3], [0, 1, 12]);
    expectInputError(() => readIdxLabels(file, 10), file, 'label 12', 'index 2', '0..9');
    expect(readFileSync(file).length).toBe(8 + 3);
  });
});
