import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATASET_NAMES, describeDatasets, loadDataset, type DatasetSpec } from '../src/data/index.js';
import { expectInputErrorAsync, tempDir, writeIdx, writeIdxPair } from './helpers/data-fixtures.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

/** Writes a small dataset under the standard MNIST file names. */
function writeStandard(dir: string, gz: boolean, trainCount = 12, testCount = 6): void {
  const ext = gz ? '.gz' : '';
  const mk = (name: string, n: number) => {
    writeIdx(dir, `${name}-images-idx3-ubyte${ext}`, [n, 5, 4], Uint8Array.from({ length: n * 20 }, (_, i) => i % 256));
    writeIdx(dir, `${name}-labels-idx1-ubyte${ext}`, [n], Uint8Array.from({ length: n }, (_, i) => i % 4));
  };
  mk('train', trainCount);
  mk('t10k', testCount);
}

describe('loadDataset: idx', () => {
  it('loads the standard names, plain or .gz, and infers the classes', async () => {
    for (const gz of [false, true]) {
      const d = join(dir, gz ? 'gz' : 'plain');
      mkdirSync(d);
      writeStandard(d, gz);
      const ds = await loadDataset({ name: 'idx', path: d, limit: { test: 4 } });
      expect(ds.name).toBe('idx');
      expect(ds.shape).toEqual([5, 4, 1]);
      expect(ds.classes).toBe(4);
      expect(ds.classNames).toEqual(['0', '1', '2', '3']);
      expect(ds.train.count).toBe(12);
      expect(ds.test.count).toBe(4);
      expect(ds.validation).toBeUndefined();
    }
  });

  it('takes custom file names', async () => {
    const tr = writeIdxPair(dir, 'mytrain', 8, 2, 2, 2);
    const te = writeIdxPair(dir, 'mytest', 4, 2, 2, 2, true);
    const spec: DatasetSpec = {
      name: 'idx',
      path: dir,
      files: { trainImages: 'mytrain-images-idx3-ubyte', trainLabels: 'mytrain-labels-idx1-ubyte', testImages: te.images, testLabels: te.labels },
      validation: 0.25,
    };
    const ds = await loadDataset(spec);
    expect(ds.train.count).toBe(6);
    expect(ds.validation?.count).toBe(2);
    expect(tr.images).toContain(dir);
  });

  it('errors: no path, missing file, test label unseen in training, shape mismatch', async () => {
    await expectInputErrorAsync(loadDataset({ name: 'idx' }), "'idx'", 'path');
    await expectInputErrorAsync(loadDataset({ name: 'idx', path: dir }), join(dir, 'train-images-idx3-ubyte'), 'no such file');
    await expectInputErrorAsync(loadDataset({ name: 'idx', path: join(dir, 'x') }), join(dir, 'x'));
    writeStandard(dir, false);
    writeIdx(dir, 't10k-labels-idx1-ubyte', [6], [0, 1, 2, 3, 9, 0]);
    await expectInputErrorAsync(loadDataset({ name: 'idx', path: dir }), join(dir, 't10k-labels-idx1-ubyte'), 'label 9', '0..3');
    writeIdx(dir, 't10k-labels-idx1-ubyte', [6], [0, 1, 2, 3, 0, 0]);
    writeIdx(dir, 't10k-images-idx3-ubyte', [6, 4, 5], new Uint8Array(120));
    await expectInputErrorAsync(loadDataset({ name: 'idx', path: dir }), join(dir, 't10k-images-idx3-ubyte'), '4×5×1', '5×4×1');
  });
});

describe('loadDataset: general', () => {
  it('rejects a path or files for built-in datasets, and unknown names', async () => {
    await expectInputErrorAsync(loadDataset({ name: 'mnist', path: dir }), 'mnist', 'path');
    await expectInputErrorAsync(loadDataset({ name: 'fashion-mnist', files: {} }), 'files');
    await expectInputErrorAsync(loadDataset({ name: 'imagenet' } as unknown as DatasetSpec), 'imagenet', 'mnist, fashion-mnist');
  });

  it('describes every dataset in one line', () => {
    const d = describeDatasets();
    expect(d.map((x) => x.name)).toEqual([...DATASET_NAMES]);
    for (const x of d) expect(x.description).not.toMatch(/\n/);
  });
});
