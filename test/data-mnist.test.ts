import { describe, expect, it } from 'vitest';
import { loadDataset } from '../src/data/index.js';
import { loadMnist, mnistDataDir } from '../src/data/mnist.js';

describe('embedded MNIST', () => {
  it('loads the official 60,000/10,000 split', () => {
    const t0 = Date.now();
    const m = loadMnist();
    expect(m.train.count).toBe(60000);
    expect(m.test.count).toBe(10000);
    expect(m.train.shape).toEqual([28, 28, 1]);
    expect(m.train.images.length).toBe(60000 * 784);
    expect(m.train.labels[0]).toBe(5); // the famous first digit
    expect(m.test.labels[0]).toBe(7);
    expect(m.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('through the registry, with limit and a validation split', async () => {
    const ds = await loadDataset({ name: 'mnist', limit: { train: 1000, test: 100 }, validation: 0.1, seed: 1 });
    expect(ds.shape).toEqual([28, 28, 1]);
    expect(ds.classes).toBe(10);
    expect(ds.train.count).toBe(900);
    expect(ds.validation?.count).toBe(100);
    expect(ds.test.count).toBe(100);
    expect(ds.train).not.toHaveProperty('shape');
  });

  it('the same files load as a generic idx dataset', async () => {
    const ds = await loadDataset({ name: 'idx', path: mnistDataDir(), limit: { train: 10, test: 10 } });
    expect(ds.classes).toBe(10);
    expect(ds.shape).toEqual([28, 28, 1]);
    expect(ds.train.labels[0]).toBe(5);
  });
});
