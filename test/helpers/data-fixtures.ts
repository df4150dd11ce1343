/** Small on-disk fixtures for the data tests: a fresh temp dir, IDX and CIFAR files. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect } from 'vitest';
import { InputError } from '../../src/errors.js';

/** A new temp directory and a cleanup function. */
export function tempDir(prefix = 'whetstone-data-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Hand-built IDX bytes (independent of encodeIdx, so the round trip tests the reader for real). */
export function idxBytes(type: number, dims: number[], data: ArrayLike<number>): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = type;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(Array.from(data))]);
}

/** Writes an IDX file (gzipped when the name ends in .gz) and returns its path. */
export function writeIdx(dir: string, name: string, dims: number[], data: ArrayLike<number>): string {
  const file = join(dir, name);
  const bytes = idxBytes(0x08, dims, data);
  writeFileSync(file, name.endsWith('.gz') ? gzipSync(bytes) : bytes);
  return file;
}

/** Deterministic pseudo-pixel value for image n, pixel p. */
export const pixel = (n: number, p: number): number => (n * 31 + p * 7) % 256;

/** Writes a consistent images/labels pair of `count` images of rows×cols; returns both paths. */
export function writeIdxPair(
  dir: string,
  prefix: string,
  count: number,
  rows = 4,
  cols = 3,
  classes = 3,
  gz = false,
): { images: string; labels: string; pixels: Uint8Array; labelValues: Uint8Array } {
  const pixels = Uint8Array.from({ length: count * rows * cols }, (_, i) => pixel(Math.floor(i / (rows * cols)), i % (rows * cols)));
  const labelValues = Uint8Array.from({ length: count }, (_, i) => i % classes);
  const ext = gz ? '.gz' : '';
  return {
    images: writeIdx(dir, `${prefix}-images-idx3-ubyte${ext}`, [count, rows, cols], pixels),
    labels: writeIdx(dir, `${prefix}-labels-idx1-ubyte${ext}`, [count], labelValues),
    pixels,
    labelValues,
  };
}

/** Asserts `fn` throws an InputError with a one-line message containing every `parts` string. */
export function expectInputError(fn: () => unknown, ...parts: (string | RegExp)[]): InputError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(InputError);
  const err = caught as InputError;
  expect(err.message).not.toMatch(/[\r\n]/);
  for (const p of parts) {
    if (typeof p === 'string') expect(err.message).toContain(p);
    else expect(err.message).toMatch(p);
  }
  return err;
}

/** Async variant of expectInputError. */
export async function expectInputErrorAsync(p: Promise<unknown>, ...parts: (string | RegExp)[]): Promise<InputError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  return expectInputError(() => {
    if (err !== undefined) throw err;
  }, ...parts);
}
