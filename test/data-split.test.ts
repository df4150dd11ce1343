import { describe, expect, it } from 'vitest';
import { batchCount, batches, identityOrder, normaliseBatch } from '../src/data/batches.js';
import { applySplitOptions, limitSplit, shuffledOrder, splitValidation, subset, validationCount } from '../src/data/split.js';
import type { DatasetSplit } from '../src/data/types.js';
import { expectInputError } from './helpers/data-fixtures.js';

/** count images of 2 pixels each; image i holds pixels [i, i] (mod 256) and label i mod 5. */
function fake(count: number): DatasetSplit {
  const images = Uint8Array.from({ length: count * 2 }, (_, k) => Math.floor(k / 2) % 256);
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 5);
  return { images, labels, count };
}
/** The original index of each image of a split made from `fake` (count < 256). */
const ids = (s: DatasetSplit) => Array.from({ length: s.count }, (_, i) => s.images[2 * i]!);

describe('limit', () => {
  it('keeps the first N in file order', () => {
    const s = limitSplit(fake(10), 4);
    expect(s.count).toBe(4);
    expect(ids(s)).toEqual([0, 1, 2, 3]);
    expect(limitSplit(fake(3), 10).count).toBe(3);
    expectInputError(() => limitSplit(fake(3), 0, 'limit.train'), 'limit.train');
    expectInputError(() => limitSplit(fake(3), 1.5), 'positive integer');
  });

  it('applies to train before the validation hold-out, and to test', () => {
    const r = applySplitOptions({ train: fake(100), test: fake(50) }, { limit: { train: 40, test: 7 }, validation: 0.25, seed: 3 });
    expect(r.train.count).toBe(30);
    expect(r.validation!.count).toBe(10);
    expect(r.test.count).toBe(7);
    expect(Math.max(...ids(r.train), ...ids(r.validation!))).toBeLessThan(40);
  });
});

describe('validation split', () => {
  it('sizes follow the fraction', () => {
    expect(validationCount(100, 0.1)).toBe(10);
    expect(validationCount(60000, 1 / 6)).toBe(10000);
    expect(validationCount(10, 0.01)).toBe(1); // at least one when asked for
    expect(validationCount(2, 0.99)).toBe(1); // never all
    expect(validationCount(10, 0)).toBe(0);
    const r = splitValidation(fake(200), 0.15, 0);
    expect(r.train.count).toBe(170);
    expect(r.validation!.count).toBe(30);
    expect(splitValidation(fake(5), 0, 0).validation).toBeUndefined();
  });

  it('is disjoint, covers train, keeps labels with images, and keeps file order', () => {
    const r = splitValidation(fake(200), 0.3, 7);
    const t = ids(r.train);
    const v = ids(r.validation!);
    expect(new Set([...t, ...v]).size).toBe(200);
    expect(t.length + v.length).toBe(200);
    expect([...t].sort((a, b) => a - b)).toEqual(t);
    r.validation!.labels.forEach((l, i) => expect(l).toBe(v[i]! % 5));
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const a = ids(splitValidation(fake(200), 0.2, 42).validation!);
    const b = ids(splitValidation(fake(200), 0.2, 42).validation!);
    const c = ids(splitValidation(fake(200), 0.2, 43).validation!);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('rejects fractions outside [0, 1)', () => {
    expectInputError(() => splitValidation(fake(5), 1, 0), 'validation');
    expectInputError(() => splitValidation(fake(5), -0.1, 0), 'validation');
    expectInputError(() => applySplitOptions({ train: fake(5), test: fake(5) }, { seed: 0.5 }), 'seed');
  });
});

describe('shuffledOrder', () => {
  it('is a permutation, deterministic per (seed, epoch), different across epochs and seeds', () => {
    const a = Array.from(shuffledOrder(100, 1, 0));
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Array.from(shuffledOrder(100, 1, 0))).toEqual(a);
    expect(Array.from(shuffledOrder(100, 1, 1))).not.toEqual(a);
    expect(Array.from(shuffledOrder(100, 2, 0))).not.toEqual(a);
  });
});

describe('batches', () => {
  it('normalises to [0, 1] in the given order, HWC preserved', () => {
    const split: DatasetSplit = { images: Uint8Array.from([0, 255, 51, 102, 1, 2, 3, 4]), labels: Uint8Array.from([7, 3]), count: 2 };
    const b = normaliseBatch(split, [1, 0], [2, 1, 2]);
    expect(b.count).toBe(2);
    expect(Array.from(b.y)).toEqual([3, 7]);
    expect(b.x).toBeInstanceOf(Float32Array);
    expect(Array.from(b.x)).toEqual(Array.from([1, 2, 3, 4, 0, 255, 51, 102], (v) => Math.fround(v / 255)));
    expect(() => normaliseBatch(split, [2], [2, 1, 2])).toThrow(RangeError);
    expect(() => normaliseBatch(split, [0], [3, 1, 2])).toThrow(RangeError);
  });

  it('iterates every image once, last batch smaller unless dropped', () => {
    const s = fake(10);
    const order = shuffledOrder(10, 5, 0);
    const all = [...batches(s, order, 4, [1, 2, 1])];
    expect(all.map((b) => b.count)).toEqual([4, 4, 2]);
    expect(all.length).toBe(batchCount(10, 4));
    const seen = all.flatMap((b) => Array.from({ length: b.count }, (_, i) => Math.round(b.x[2 * i]! * 255)));
    expect(seen).toEqual(Array.from(order));
    expect([...batches(s, identityOrder(10), 4, [1, 2, 1], { dropRemainder: true })].length).toBe(batchCount(10, 4, true));
    expect(() => [...batches(s, order, 0, [1, 2, 1])]).toThrow(RangeError);
  });

  it('subset copies the selected images', () => {
    const s = subset(fake(6), [5, 0]);
    expect(ids(s)).toEqual([5, 0]);
    expect(Array.from(s.labels)).toEqual([0, 0]);
  });
});
