import { rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CIFAR_CLASS_NAMES, CIFAR_RECORD_BYTES, loadCifar10, parseCifarBatch } from '../src/data/cifar.js';
import { loadDataset } from '../src/data/registry.js';
import { expectInputError, expectInputErrorAsync, tempDir } from './helpers/data-fixtures.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

/** One CHW record: channel c, row h, column w = (c·7 + h·3 + w) mod 256, with a few marked pixels. */
function record(label: number, mark: number): Buffer {
  const r = Buffer.alloc(CIFAR_RECORD_BYTES);
  r[0] = label;
  for (let c = 0; c < 3; c++)
    for (let h = 0; h < 32; h++) for (let w = 0; w < 32; w++) r[1 + c * 1024 + h * 32 + w] = (c * 7 + h * 3 + w) % 256;
  r[1 + 0 * 1024 + 1 * 32 + 2] = mark; // red at (row 1, col 2)
  return r;
}

function writeBatches(root: string, perBatch = 2): void {
  mkdirSync(root, { recursive: true });
  let n = 0;
  for (const name of ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin']) {
    const recs = Array.from({ length: perBatch }, () => record(n % 10, 200 + (n++ % 50)));
    writeFileSync(join(root, name), Buffer.concat(recs));
  }
}

describe('CIFAR-10 reader', () => {
  it('converts CHW records to HWC, checked on a non-symmetric pixel', () => {
    const split = parseCifarBatch(Buffer.concat([record(3, 250), record(9, 17)]), 'b');
    expect(split.count).toBe(2);
    expect(Array.from(split.labels)).toEqual([3, 9]);
    const at = (n: number, h: number, w: number, c: number) => split.images[n * 3072 + (h * 32 + w) * 3 + c];
    expect(at(0, 1, 2, 0)).toBe(250); // the marked red pixel, row 1 col 2
    expect(at(0, 2, 1, 0)).toBe((0 * 7 + 2 * 3 + 1) % 256); // its transpose is not marked
    expect(at(1, 1, 2, 0)).toBe(17);
    expect(at(1, 5, 9, 1)).toBe((1 * 7 + 5 * 3 + 9) % 256); // green
    expect(at(1, 31, 30, 2)).toBe((2 * 7 + 31 * 3 + 30) % 256); // blue
  });

  it('loads a directory: 5 train batches concatenated in order, test batch, standard names', () => {
    writeBatches(dir);
    const data = loadCifar10(dir);
    expect(data.train.count).toBe(10);
    expect(data.test.count).toBe(2);
    expect(data.shape).toEqual([32, 32, 3]);
    expect(Array.from(data.train.labels)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(data.train.images[9 * 3072 + (1 * 32 + 2) * 3]).toBe(209);
    expect(data.classNames).toEqual([...CIFAR_CLASS_NAMES]);
  });

  it('reads batches.meta.txt and accepts the archive parent directory', async () => {
    const root = join(dir, 'cifar-10-batches-bin');
    writeBatches(root, 1);
    writeFileSync(join(root, 'batches.meta.txt'), 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n');
    const ds = await loadDataset({ name: 'cifar10', path: dir, validation: 0.2, seed: 1 });
    expect(ds.classNames).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']);
    expect(ds.classes).toBe(10);
    expect(ds.train.count + ds.validation!.count).toBe(5);
    writeFileSync(join(root, 'batches.meta.txt'), 'a\nb\n');
    expectInputError(() => loadCifar10(dir), 'batches.meta.txt', 'expected 10');
  });

  it('missing file and missing directory', () => {
    writeBatches(dir, 1);
    rmSync(join(dir, 'data_batch_3.bin'));
    expectInputError(() => loadCifar10(dir), join(dir, 'data_batch_3.bin'), 'missing');
    expectInputError(() => loadCifar10(join(dir, 'absent')), join(dir, 'absent'), 'no such file');
  });

  it('truncated file (size not a multiple of 3073)', () => {
    writeBatches(dir, 1);
    const file = join(dir, 'test_batch.bin');
    writeFileSync(file, record(1, 1).subarray(0, 3000));
    expectInputError(() => loadCifar10(dir), file, '3000', '3073');
  });

  it('label above 9', () => {
    writeBatches(dir, 1);
    const file = join(dir, 'data_batch_2.bin');
    writeFileSync(file, Buffer.concat([record(1, 1), record(10, 1)]));
    expectInputError(() => loadCifar10(dir), file, 'label 10', 'record 1');
  });

  it('registry requires a path', async () => {
    await expectInputErrorAsync(loadDataset({ name: 'cifar10' }), 'cifar10', 'path');
  });
});
