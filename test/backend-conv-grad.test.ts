/**
 * The wasm Conv2DBackpropFilter we register must agree with the cpu backend's reference kernel.
 * Both backends live in one process; inputs travel between them as typed arrays.
 */
import { beforeAll, describe, expect, it } from 'vitest';

import { initBackend, tf } from '../src/backend/index.js';
import { maxAbs, maxAbsDiff, randomValues, sizeOf, valuesOn } from './helpers/backend-compare.js';

const TOL = 1e-4;

beforeAll(async () => {
  await initBackend('wasm');
});

type Pad = 'same' | 'valid';
interface Case {
  k: number;
  s: number;
  pad: Pad;
  cin: number;
  cout: number;
  h: number;
}

const cases: Case[] = [];
for (const k of [3, 5])
  for (const s of [1, 2])
    for (const pad of ['same', 'valid'] as const)
      for (const cin of [1, 3, 8])
        for (const cout of [1, 3, 8])
          for (const h of [7, 8]) cases.push({ k, s, pad, cin, cout, h });

/** Gradients of Σ conv2d(x, f) · w with respect to x and f, on one backend. */
async function convGrads(backend: string, c: Case, seed: number): Promise<Float32Array[]> {
  const n = 2;
  const w = c.h + 3; // non-square, and the other parity of h
  const xShape: [number, number, number, number] = [n, c.h, w, c.cin];
  const fShape: [number, number, number, number] = [c.k, c.k, c.cin, c.cout];
  const xv = randomValues(sizeOf(xShape), seed);
  const fv = randomValues(sizeOf(fShape), seed + 1);
  return valuesOn(backend, () => {
    const x = tf.tensor4d(xv, xShape);
    const f = tf.tensor4d(fv, fShape);
    const yShape = tf.conv2d(x, f, c.s, c.pad).shape;
    const wt = tf.tensor(randomValues(sizeOf(yShape), seed + 2), yShape);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad), wt)),
    );
    return g([x, f]);
  });
}

describe('conv2d gradients: wasm vs cpu', () => {
  it.each(cases)('k=$k s=$s $pad cin=$cin cout=$cout h=$h', async (c) => {
    const seed = c.k * 1000 + c.s * 100 + c.cin * 10 + c.cout + c.h;
    const [dxCpu, dfCpu] = await convGrads('cpu', c, seed);
    const [dxWasm, dfWasm] = await convGrads('wasm', c, seed);
    expect(maxAbs(dfCpu!)).toBeGreaterThan(0.1); // the comparison is not vacuous
    expect(maxAbsDiff(dfWasm!, dfCpu!)).toBeLessThanOrEqual(TOL);
    expect(maxAbsDiff(dxWasm!, dxCpu!)).toBeLessThanOrEqual(TOL);
  });
});

/** A backprop kernel run bare, for attributes the conv2d op rarely produces. */
async function runBare(
  backend: string,
  kernel: 'Conv2DBackpropFilter' | 'Conv2DBackpropInput',
  shapes: { x?: number[]; dy: number[]; filter?: number[] },
  attrs: Record<string, unknown>,
): Promise<Float32Array> {
  const [out] = await valuesOn(backend, () => {
    const t = (shape: number[], seed: number) => tf.tensor(randomValues(sizeOf(shape), seed), shape);
    const inputs: tf.NamedTensorMap = { dy: t(shapes.dy, 12) };
    if (shapes.x) inputs['x'] = t(shapes.x, 11);
    if (shapes.filter) inputs['filter'] = t(shapes.filter, 13);
    return [tf.engine().runKernel(kernel, inputs, attrs as tf.NamedAttrMap) as tf.Tensor];
  });
  return out!;
}

interface Geometry {
  name: string;
  x: number[];
  dy: number[];
  filter: number[];
  attrs: Record<string, unknown>;
}

const geometries: Geometry[] = [
  { name: "asymmetric 'same' pads (even kernel 4, stride 2)", x: [2, 9, 10, 3], dy: [2, 5, 5, 4], filter: [4, 4, 3, 4], attrs: { strides: 2, pad: 'same', dataFormat: 'NHWC' } },
  { name: "asymmetric 'same' pads (even kernel 4, stride 1)", x: [2, 9, 10, 3], dy: [2, 9, 10, 4], filter: [4, 4, 3, 4], attrs: { strides: 1, pad: 'same', dataFormat: 'NHWC' } },
  { name: 'explicit asymmetric pads', x: [2, 6, 7, 2], dy: [2, 7, 9, 3], filter: [3, 3, 2, 3], attrs: { strides: 1, pad: [[0, 0], [1, 2], [0, 4], [0, 0]], dataFormat: 'NHWC' } },
  { name: 'explicit pads larger than the kernel', x: [1, 5, 4, 2], dy: [1, 10, 6, 2], filter: [2, 3, 2, 2], attrs: { strides: 1, pad: [[0, 0], [3, 3], [0, 4], [0, 0]], dataFormat: 'NHWC' } },
  { name: 'explicit pads with stride (2, 3)', x: [1, 8, 9, 2], dy: [1, 4, 3, 2], filter: [3, 3, 2, 2], attrs: { strides: [2, 3], pad: [[0, 0], [2, 0], [1, 1], [0, 0]], dataFormat: 'NHWC' } },
  { name: 'numeric pad with dimRoundingMode ceil', x: [2, 8, 8, 3], dy: [2, 5, 5, 2], filter: [3, 3, 3, 2], attrs: { strides: 2, pad: 1, dimRoundingMode: 'ceil', dataFormat: 'NHWC' } },
  { name: 'NCHW with explicit pads', x: [2, 3, 7, 6], dy: [2, 4, 3, 3], filter: [3, 3, 3, 4], attrs: { strides: 2, pad: [[0, 0], [0, 0], [1, 0], [0, 1]], dataFormat: 'NCHW' } },
  { name: 'pads so large the kernel only ever reads zeros', x: [1, 1, 1, 2], dy: [1, 1, 1, 3], filter: [1, 1, 2, 3], attrs: { strides: 4, pad: [[0, 0], [2, 0], [2, 0], [0, 0]], dataFormat: 'NHWC' } },
];

describe.each(geometries)('backprop kernels, $name', (g) => {
  it('Conv2DBackpropFilter matches cpu', async () => {
    const attrs = { ...g.attrs, filterShape: g.filter };
    const cpu = await runBare('cpu', 'Conv2DBackpropFilter', g, attrs);
    const wasm = await runBare('wasm', 'Conv2DBackpropFilter', g, attrs);
    expect(cpu.length).toBe(sizeOf(g.filter));
    expect(maxAbsDiff(wasm, cpu)).toBeLessThanOrEqual(TOL);
  });

  it('Conv2DBackpropInput matches cpu', async () => {
    const attrs = { ...g.attrs, inputShape: g.x };
    const shapes = { dy: g.dy, filter: g.filter };
    const cpu = await runBare('cpu', 'Conv2DBackpropInput', shapes, attrs);
    const wasm = await runBare('wasm', 'Conv2DBackpropInput', shapes, attrs);
    expect(cpu.length).toBe(sizeOf(g.x));
    expect(maxAbsDiff(wasm, cpu)).toBeLessThanOrEqual(TOL);
  });
});

describe('wasm conv gradient housekeeping', () => {
  it('frees every intermediate it allocates (tensors, data ids, wasm heap)', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend();
    const heap = () => (backend as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.byteLength;
    const x = tf.randomNormal([8, 16, 16, 3]);
    const f = tf.randomNormal([3, 3, 3, 8]);
    const loss = (xx: tf.Tensor, ff: tf.Tensor) =>
      tf.sum(tf.conv2d(tf.conv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, 1, 'same'), tf.ones([3, 3, 8, 4]) as tf.Tensor4D, 2, 'same'));
    const step = () => tf.dispose(tf.tidy(() => tf.grads(loss)([x, f])));
    for (let i = 0; i < 5; i++) step();
    const [tensors, dataIds, bytes] = [tf.memory().numTensors, backend.numDataIds(), heap()];
    for (let i = 0; i < 100; i++) step();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backend.numDataIds()).toBe(dataIds);
    // XNNPACK caches an operator per filter; ours use throwaway filters, which must not pile up.
    expect(heap()).toBe(bytes);
    tf.dispose([x, f]);
  });

  it('dilated conv: forward agrees with cpu, gradient is refused clearly (as on every backend)', async () => {
    const xv = randomValues(2 * 9 * 9 * 2, 5);
    const fv = randomValues(3 * 3 * 2 * 3, 6);
    const fwd = () => [tf.conv2d(tf.tensor4d(xv, [2, 9, 9, 2]), tf.tensor4d(fv, [3, 3, 2, 3]), 1, 'same', 'NHWC', 2)];
    const [cpu] = await valuesOn('cpu', fwd);
    const [wasm] = await valuesOn('wasm', fwd);
    expect(maxAbsDiff(wasm!, cpu!)).toBeLessThanOrEqual(TOL);
    const grad = () =>
      tf.tidy(() => {
        const f = tf.tensor4d(fv, [3, 3, 2, 3]);
        const x = tf.tensor4d(xv, [2, 9, 9, 2]);
        return tf.grad((ff: tf.Tensor) => tf.sum(tf.conv2d(x, ff as tf.Tensor4D, 1, 'same', 'NHWC', 2)))(f);
      });
    expect(grad).toThrow(/dilation rates greater than 1/);
  });
});
