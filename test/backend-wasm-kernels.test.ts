/**
 * The kernels we put in front of tfjs-backend-wasm's own (Tile, MaxPoolGrad, Sum/Mean over
 * leading axes, transposed BatchMatMul; conv gradients are in backend-conv-grad.test.ts) must
 * agree with the cpu backend within 1e-4, including the cases they hand back to the original.
 */
import { beforeAll, describe, expect, it } from 'vitest';

import { initBackend, registerMissingWasmKernels, tf } from '../src/backend/index.js';
import { maxAbs, maxAbsDiff, randomValues, sizeOf, valuesOn } from './helpers/backend-compare.js';
import { layerZoo, templateImages, toTensors } from './helpers/backend-models.js';

const TOL = 1e-4;

beforeAll(async () => {
  await initBackend('wasm');
});

/** Runs `fn` on cpu and on wasm with the same inputs; returns both results. */
async function both(fn: () => tf.Tensor[]): Promise<{ cpu: Float32Array[]; wasm: Float32Array[] }> {
  const cpu = await valuesOn('cpu', fn);
  const wasm = await valuesOn('wasm', fn);
  return { cpu, wasm };
}

function expectClose(r: { cpu: Float32Array[]; wasm: Float32Array[] }): void {
  expect(r.wasm.length).toBe(r.cpu.length);
  r.cpu.forEach((c, i) => {
    expect(r.wasm[i]!.length).toBe(c.length);
    expect(maxAbsDiff(r.wasm[i]!, c)).toBeLessThanOrEqual(TOL);
  });
}

const t = (shape: number[], seed: number) => tf.tensor(randomValues(sizeOf(shape), seed), shape);

describe('Tile on wasm', () => {
  const cases: { shape: number[]; reps: number[] }[] = [
    { shape: [1, 1, 1, 5], reps: [3, 4, 2, 1] }, // the batch-norm gradient's case
    { shape: [2, 3], reps: [3, 2] },
    { shape: [7], reps: [5] },
    { shape: [2, 1, 3, 2], reps: [1, 3, 1, 2] },
    { shape: [3, 2], reps: [1, 1] },
    { shape: [2, 2], reps: [0, 3] },
  ];
  it.each(cases)('float32 $shape × $reps', async ({ shape, reps }) => {
    expectClose(await both(() => [tf.tile(t(shape, 1), reps)]));
  });
  it('int32 and bool', async () => {
    const r = await both(() => [
      tf.tile(tf.tensor2d([1, -2, 3, 4], [2, 2], 'int32'), [2, 3]).toFloat(),
      tf.tile(tf.tensor1d([true, false, true], 'bool'), [4]).toFloat(),
    ]);
    expectClose(r);
    expect(Array.from(r.wasm[1]!.slice(0, 6))).toEqual([1, 0, 1, 1, 0, 1]);
  });
});

describe('MaxPoolGrad on wasm', () => {
  const cases: { x: number[]; pool: number; stride: number; pad: 'same' | 'valid' }[] = [
    { x: [3, 8, 8, 4], pool: 2, stride: 2, pad: 'valid' },
    { x: [2, 9, 7, 3], pool: 2, stride: 2, pad: 'valid' }, // odd sizes: the last row/column is never read
    { x: [2, 9, 7, 3], pool: 2, stride: 2, pad: 'same' },
    { x: [2, 10, 11, 2], pool: 3, stride: 2, pad: 'same' }, // overlapping windows
    { x: [1, 6, 6, 5], pool: 3, stride: 1, pad: 'valid' },
  ];
  it.each(cases)('$x pool $pool stride $stride $pad', async (c) => {
    const r = await both(() => {
      const x = t(c.x, 3);
      const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, c.pool, c.stride, c.pad), t(tf.maxPool(x as tf.Tensor4D, c.pool, c.stride, c.pad).shape, 4))));
      return [g(x)];
    });
    expect(maxAbs(r.cpu[0]!)).toBeGreaterThan(0.1);
    expectClose(r);
  });
  it('ties go to the first maximum in the window, as on cpu', async () => {
    const r = await both(() => {
      const x = tf.tensor4d([1, 1, 1, 1, 2, 0, 2, 2, 0, 0, 0, 0, 5, 5, 5, 5], [1, 4, 4, 1]);
      return [tf.grad((a: tf.Tensor) => tf.sum(tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid')))(x)];
    });
    expect(Array.from(r.wasm[0]!)).toEqual(Array.from(r.cpu[0]!));
  });
  it('a window of −∞ passes no gradient on, as on cpu', async () => {
    const r = await both(() => {
      const x = tf.tensor4d([-Infinity, -Infinity, 3, 1, -Infinity, -Infinity, 2, 4], [1, 2, 4, 1]);
      return [tf.grad((a: tf.Tensor) => tf.sum(tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid')))(x)];
    });
    expect(Array.from(r.cpu[0]!)).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(Array.from(r.wasm[0]!)).toEqual(Array.from(r.cpu[0]!));
  });
});

describe('Sum and Mean on wasm', () => {
  const cases: { shape: number[]; axis: number | number[]; keepDims: boolean }[] = [
    { shape: [4, 5, 6, 7], axis: [0, 1, 2], keepDims: false }, // bias / batch-norm gradients
    { shape: [4, 5, 6, 7], axis: [2, 1, 0], keepDims: true },
    { shape: [300, 9], axis: 0, keepDims: false },
    { shape: [4, 5, 6], axis: [-3, -2], keepDims: false },
    { shape: [4, 5, 6], axis: [1], keepDims: false }, // not leading: the backend's own
    { shape: [4, 5, 6], axis: [0, 2], keepDims: true }, // not leading: the backend's own
    { shape: [4, 5], axis: [0, 1], keepDims: false }, // every axis: the backend's own
  ];
  it.each(cases)('$shape over $axis (keepDims $keepDims)', async (c) => {
    const r = await both(() => {
      const x = t(c.shape, 5);
      const s = tf.sum(x, c.axis, c.keepDims);
      const m = tf.mean(x, c.axis, c.keepDims);
      return [s, m, tf.tensor1d(s.shape), tf.tensor1d(m.shape)];
    });
    expectClose(r);
  });
  it('a large sum stays within 1e-4 of cpu (float64 accumulation)', async () => {
    expectClose(await both(() => [tf.sum(tf.add(t([64, 26, 26, 4], 6), 1), [0, 1, 2])]));
  });
});

describe('BatchMatMul on wasm', () => {
  const combos = [
    { ta: false, tb: false },
    { ta: true, tb: false },
    { ta: false, tb: true },
    { ta: true, tb: true },
  ];
  it.each(combos)('transposeA $ta transposeB $tb', async ({ ta, tb }) => {
    const [m, k, n] = [37, 53, 19];
    const r = await both(() => [tf.matMul(t(ta ? [k, m] : [m, k], 7), t(tb ? [n, k] : [k, n], 8), ta, tb)]);
    expectClose(r);
  });
  it('batched products (the backend’s own) still agree', async () => {
    expectClose(await both(() => [tf.matMul(t([3, 5, 4], 9), t([3, 6, 4], 10), false, true)]));
  });
  it('dense-layer gradients agree', async () => {
    const r = await both(() => {
      const x = t([16, 40], 11);
      const w = t([40, 24], 12);
      return tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D))))([x, w]);
    });
    expectClose(r);
  });
});

describe('registration and housekeeping', () => {
  it('registers nothing twice', () => {
    expect(registerMissingWasmKernels('wasm')).toEqual([]);
  });

  it('a training step with every replaced kernel frees what it allocates', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend();
    const model = layerZoo(16, false);
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
    const { x, y } = toTensors(templateImages(8, 16, 3, 4, 1));
    for (let i = 0; i < 3; i++) await model.trainOnBatch(x, y);
    const [tensors, dataIds] = [tf.memory().numTensors, backend.numDataIds()];
    for (let i = 0; i < 10; i++) await model.trainOnBatch(x, y);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backend.numDataIds()).toBe(dataIds);
    tf.dispose([x, y]);
    model.dispose();
  });
});
