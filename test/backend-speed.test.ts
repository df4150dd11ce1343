/**
 * Opt-in speed measurement (WHETSTONE_BENCH=1 npx vitest run test/backend-speed): one training
 * step of an MNIST-sized CNN (batch 64, 28x28x1, conv3x3x32 → maxpool → conv3x3x64 → maxpool →
 * dense128 → dense10, adam) on wasm and on cpu. Skipped in normal runs: it takes ~1 min and its
 * numbers depend on the machine.
 */
import { describe, expect, it } from 'vitest';

import { initBackend, tf } from '../src/backend/index.js';
import { mnistCnn, templateImages, toTensors } from './helpers/backend-models.js';

async function msPerStep(backend: 'wasm' | 'cpu', warmup: number, steps: number): Promise<number> {
  await initBackend(backend);
  const model = mnistCnn();
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  const { x, y } = toTensors(templateImages(64, 28, 1, 10, 1));
  for (let i = 0; i < warmup; i++) await model.trainOnBatch(x, y);
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await model.trainOnBatch(x, y);
  const ms = (performance.now() - t0) / steps;
  tf.dispose([x, y]);
  model.dispose();
  return ms;
}

describe.skipIf(!process.env['WHETSTONE_BENCH'])('training step speed', () => {
  it('MNIST-sized CNN, batch 64: wasm vs cpu', async () => {
    const wasm = await msPerStep('wasm', 2, 10);
    const cpu = await msPerStep('cpu', 1, 1); // ~25 s a step: one is enough
    console.log(
      `train step, batch 64: wasm ${wasm.toFixed(0)} ms (${((64 * 1000) / wasm).toFixed(0)} img/s), ` +
        `cpu ${cpu.toFixed(0)} ms (${((64 * 1000) / cpu).toFixed(0)} img/s), wasm is ${(cpu / wasm).toFixed(1)}x faster`,
    );
    expect(wasm).toBeLessThan(cpu);
  });
});
