/**
 * Data-parallel training (src/train/parallel.ts): N worker threads give the same update as one
 * thread (for networks without batch norm), keep every copy's weights identical (sharpness
 * included), and are deterministic for a given seed and worker count.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { initBackend } from '../src/backend/index.js';
import type { ModelConfig } from '../src/config/schema.js';
import { normaliseBatch, type Batch, type DatasetSplit } from '../src/data/index.js';
import { buildModel } from '../src/model/builder.js';
import { tf } from '../src/model/tf.js';
import { createTrainer, sliceSizes, type BatchTrainer } from '../src/train/parallel.js';
import { createOptimizer } from '../src/train/optimizer.js';
import { SeededRandom } from '../src/util/random.js';
import { maxAbs, maxAbsDiff } from './helpers/backend-compare.js';
import { cli } from './helpers/cli.js';

const SHAPE = [12, 12, 1] as const;
const trainers: BatchTrainer[] = [];

beforeAll(async () => {
  await initBackend('wasm');
});
afterAll(async () => {
  await Promise.all(trainers.map((t) => t.close()));
});

function modelConfig(batchNorm: boolean, dropout = 0): ModelConfig {
  const bn = batchNorm ? [{ type: 'batch_norm', epsilon: 0.001, momentum: 0.9 } as const] : [];
  const drop = dropout > 0 ? [{ type: 'dropout', rate: dropout } as const] : [];
  return {
    activation: 'brelu',
    input_encoding: 'analog',
    input_threshold: 0.5,
    layers: [
      { type: 'conv2d', filters: 4, kernel_size: 3, strides: 1, padding: 'valid', use_bias: true },
      ...bn,
      { type: 'spiking' },
      { type: 'max_pool2d', pool_size: 2, padding: 'valid' },
      ...drop,
      { type: 'flatten' },
      { type: 'dense', units: 16, use_bias: true },
      ...bn,
      { type: 'spiking' },
    ],
    output: { neurons_per_class: 2, overlapping: false, batch_norm: false },
  } as ModelConfig;
}

/** Seeded images of 3 classes (a bright square in a class-dependent corner, plus noise). */
function split(count: number, seed: number): DatasetSplit {
  const rng = new SeededRandom(seed);
  const px = SHAPE[0] * SHAPE[1];
  const images = new Uint8Array(count * px);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const c = rng.int(3);
    labels[i] = c;
    for (let p = 0; p < px; p++) {
      const [y, x] = [Math.floor(p / SHAPE[1]), p % SHAPE[1]];
      const inside = c === 0 ? y < 6 && x < 6 : c === 1 ? y >= 6 && x >= 6 : y < 6 && x >= 6;
      images[i * px + p] = Math.min(255, (inside ? 160 : 0) + rng.int(96));
    }
  }
  return { images, labels, count };
}

async function run(workers: number, batchNorm: boolean, steps: number, config = modelConfig(batchNorm)): Promise<{ weights: Float32Array[]; losses: number[] }> {
  const { model, spikingLayers } = buildModel(config, { inputShape: [...SHAPE], classes: 3, seed: 5 });
  model.compile({ optimizer: createOptimizer({ name: 'adam', learning_rate: 0.01 }), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const trainer = await createTrainer({ model, shape: SHAPE, classes: 3, workers, backend: 'wasm' });
  trainers.push(trainer);
  const data = split(steps * 25, 9);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    // Sharpness changes between steps: the workers must see it, or their gradients differ.
    spikingLayers.forEach((l, i) => l.setSharpness(Math.min(0.9, s * 0.3 + i * 0.1)));
    const batch: Batch = normaliseBatch(data, Array.from({ length: 25 }, (_, i) => s * 25 + i), [...SHAPE]);
    const r = await trainer.step(batch, s);
    losses.push(r.loss, r.accuracy);
  }
  const weights = model.getWeights().map((w) => w.dataSync() as Float32Array);
  await trainer.close();
  model.dispose();
  return { weights, losses };
}

describe('data-parallel training', () => {
  it('slices a batch into near-equal contiguous parts', () => {
    expect(sliceSizes(25, 2)).toEqual([13, 12]);
    expect(sliceSizes(7, 3)).toEqual([3, 2, 2]);
    expect(sliceSizes(1, 2)).toEqual([1, 0]);
  });

  it('2 workers update the weights as 1 worker does (no batch norm), sharpness synchronised every batch', async () => {
    const one = await run(1, false, 3);
    const two = await run(2, false, 3);
    expect(two.weights.length).toBe(one.weights.length);
    one.weights.forEach((w, i) => {
      expect(maxAbsDiff(two.weights[i]!, w)).toBeLessThanOrEqual(1e-5 + 1e-5 * maxAbs(w));
    });
    one.losses.forEach((l, i) => expect(two.losses[i]!).toBeCloseTo(l, 5));
    // The steps did change the weights (the comparison is not between two initial states).
    const { model } = buildModel(modelConfig(false), { inputShape: [...SHAPE], classes: 3, seed: 5 });
    expect(maxAbsDiff(model.getWeights()[0]!.dataSync(), one.weights[0]!)).toBeGreaterThan(1e-3);
    model.dispose();
  }, 120_000);

  it('is deterministic for a seed and a worker count (with batch norm)', async () => {
    const a = await run(2, true, 3);
    const b = await run(2, true, 3);
    expect(b.losses).toEqual(a.losses);
    a.weights.forEach((w, i) => expect(Array.from(b.weights[i]!)).toEqual(Array.from(w)));
  }, 120_000);
});

describe('dropout while training', () => {
  // tfjs-layers' seeded Dropout draws the same mask at every call; the trainer reseeds it each
  // step (src/model/dropout.ts). With the rate 0 the weights stay put, so any change in the loss
  // of one batch comes from the masks alone.
  async function losses(workers: number, seeds: number[]): Promise<number[]> {
    const { model } = buildModel(modelConfig(false, 0.5), { inputShape: [...SHAPE], classes: 3, seed: 5 });
    model.compile({ optimizer: createOptimizer({ name: 'sgd', learning_rate: 0, momentum: 0 }), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const trainer = await createTrainer({ model, shape: SHAPE, classes: 3, workers, backend: 'wasm' });
    trainers.push(trainer);
    const batch = normaliseBatch(split(40, 3), Array.from({ length: 40 }, (_, i) => i), [...SHAPE]);
    const out: number[] = [];
    for (const seed of seeds) out.push((await trainer.step(batch, seed)).loss);
    await trainer.close();
    model.dispose();
    return out;
  }

  it.each([1, 2])('draws a new mask every step, the same one for the same step seed (%i workers)', async (workers) => {
    const [a, b, c, again] = await losses(workers, [11, 12, 13, 11]);
    expect(new Set([a, b, c]).size).toBe(3);
    expect(again).toBe(a);
  }, 120_000);

  it('is deterministic for a seed and a worker count', async () => {
    const config = modelConfig(true, 0.5);
    const twice = await Promise.all([0, 1].map(() => run(2, true, 3, config)));
    expect(twice[1]!.losses).toEqual(twice[0]!.losses);
  }, 120_000);
});

describe('whetstone train --workers', () => {
  it('records the worker count in metadata.json; 0 workers is a usage error (exit 2)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'whetstone-workers-'));
    try {
      const bad = await cli(['train', 'configs/ci-smoke.yaml', '--out', out, '--workers', '0']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--workers/);
      expect(readdirSync(out)).toEqual([]);
      const r = await cli(['train', 'configs/ci-smoke.yaml', '--out', out, '--workers', '2', '--limit', '600', '--epochs', '1', '--backend', 'wasm']);
      // One epoch does not finish sharpening: exit 1, but the run directory is complete.
      expect([0, 1]).toContain(r.code);
      const [run] = readdirSync(out);
      const metadata = JSON.parse(readFileSync(join(out, run!, 'metadata.json'), 'utf8')) as { workers: number };
      expect(metadata.workers).toBe(2);
      const metrics = readFileSync(join(out, run!, 'metrics.jsonl'), 'utf8').trim().split('\n');
      expect(metrics).toHaveLength(1);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
