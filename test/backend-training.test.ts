/**
 * Training on the wasm backend: every kernel a training step needs is there (ours included),
 * gradients of a whole model agree with cpu, and a small CNN actually learns.
 */
import { beforeAll, describe, expect, it } from 'vitest';

import { initBackend, tf } from '../src/backend/index.js';
import { maxAbs, maxAbsDiff } from './helpers/backend-compare.js';
import { layerZoo, smallCnn, templateImages, toTensors } from './helpers/backend-models.js';

beforeAll(async () => {
  const info = await initBackend('wasm');
  expect(info.name).toBe('wasm');
});

/** Loss and gradients of every trainable weight of `layerZoo`, with the given weights. */
async function zooGrads(backend: string, weights?: Float32Array[]): Promise<{ weights: Float32Array[]; grads: Float32Array[]; loss: number }> {
  await tf.setBackend(backend);
  const set = templateImages(8, 16, 3, 4, 99);
  const model = layerZoo(16, false);
  if (weights) model.setWeights(model.getWeights().map((w, i) => tf.tensor(weights[i]!, w.shape)));
  const { x, y } = toTensors(set);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(
    () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
    vars,
  );
  const out = {
    weights: model.getWeights().map((w) => w.dataSync() as Float32Array),
    grads: vars.map((v) => grads[v.name]!.dataSync() as Float32Array),
    loss: value.dataSync()[0]!,
  };
  tf.dispose([x, y, value, ...Object.values(grads)]);
  model.dispose();
  return out;
}

describe('training on wasm', () => {
  it('whole-model gradients (conv, batch norm, max/avg pool, sigmoid, relu6, softmax) match cpu', async () => {
    const cpu = await zooGrads('cpu');
    const wasm = await zooGrads('wasm', cpu.weights);
    expect(Math.abs(wasm.loss - cpu.loss)).toBeLessThan(1e-4);
    expect(wasm.grads.length).toBe(cpu.grads.length);
    cpu.grads.forEach((g, i) => {
      // Relative to the gradient's own scale (they are ~1e-3..1e-2 here); observed ~1e-9.
      expect(maxAbsDiff(wasm.grads[i]!, g)).toBeLessThanOrEqual(1e-6 + 1e-4 * maxAbs(g));
    });
  });

  it('fit() with dropout and adam runs on wasm (no missing kernels)', async () => {
    await tf.setBackend('wasm');
    const model = layerZoo(16, true);
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
    const { x, y } = toTensors(templateImages(32, 16, 3, 4, 5));
    const h = await model.fit(x, y, { epochs: 1, batchSize: 16, verbose: 0 });
    expect(Number.isFinite(h.history['loss']![0] as number)).toBe(true);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('a small CNN learns two seeded random patterns', async () => {
    await tf.setBackend('wasm');
    const model = smallCnn(16);
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const train = toTensors(templateImages(256, 16, 1, 2, 42, 4242));
    const before = model.evaluate(train.x, train.y) as tf.Scalar[];
    const [loss0] = before.map((t) => t.dataSync()[0]!);
    await model.fit(train.x, train.y, { epochs: 4, batchSize: 32, shuffle: false, verbose: 0 });
    // Fresh samples of the same two patterns: it must have learned the patterns, not the noise.
    const test = toTensors(templateImages(128, 16, 1, 2, 42, 4343));
    const after = model.evaluate(test.x, test.y) as tf.Scalar[];
    const [loss1, acc1] = after.map((t) => t.dataSync()[0]!);
    expect(loss0).toBeGreaterThan(1); // ~ln(10) at start: 10 softmax outputs
    expect(loss1!).toBeLessThan(loss0! * 0.2);
    expect(acc1!).toBeGreaterThan(0.9); // chance is 0.5
    tf.dispose([train.x, train.y, test.x, test.y, ...before, ...after]);
    model.dispose();
  });
});
