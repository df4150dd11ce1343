/**
 * Keras files read directly: a Keras 3 `.keras` zip and a legacy `.h5`, both written in their
 * documented formats by test/fixtures/keras-files/generate.py (h5py + NumPy; no Keras here),
 * which also computes each network's outputs with NumPy. The imported tfjs networks must give
 * the same outputs within 1e-4, and convert.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../src/backend/index.js';
import { importedSource, importModel } from '../src/model/convert/import.js';
import { keras3Artifacts } from '../src/model/convert/keras/keras3.js';
import { planConversion } from '../src/model/convert/plan.js';
import { cli } from './helpers/cli.js';
import { keras3MlpConfig, keras3Zip } from './helpers/keras-files.js';
import { seeded } from './helpers/onnx-models.js';
import { largestDifference, pyJson, writeMnistNpy } from './helpers/python.js';

const TEST_IMAGES = 100;
const GENERATOR = new URL('fixtures/keras-files/generate.py', import.meta.url).pathname;
let dir: string;
let testX: Float32Array;
let reference: Record<'cnn.keras' | 'mlp.h5', number[][]>;

beforeAll(async () => {
  await initBackend();
  dir = mkdtempSync(join(tmpdir(), 'whetstone-keras-'));
  ({ testX } = await writeMnistNpy(dir, 10, TEST_IMAGES));
  reference = pyJson([GENERATOR, dir, join(dir, 'test_x.npy')]);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function outputs(file: string) {
  const imported = await importModel(join(dir, file), file);
  const model = await tf.loadLayersModel(tf.io.fromMemory(imported.artifacts));
  const y = tf.tidy(() => model.predict(tf.tensor4d(testX, [TEST_IMAGES, 28, 28, 1])) as tf.Tensor2D);
  const values = y.arraySync();
  y.dispose();
  model.dispose();
  return { imported, values };
}

describe('a Keras 3 .keras file (functional CNN, weights addressed by class)', () => {
  it('imports with the outputs NumPy computes from the same weights (within 1e-4)', async () => {
    const { imported, values } = await outputs('cnn.keras');
    expect(imported.format).toBe('keras3');
    const source = importedSource(imported);
    expect(source.layers.map((l) => l.name)).toEqual(['features', 'norm', 'relu', 'pool', 'flatten', 'hidden', 'logits']);
    expect(largestDifference(values, reference['cnn.keras'], 'cnn.keras', 'NumPy')).toBeLessThan(1e-4);
    const { problems } = planConversion(source, { shape: [28, 28, 1], classes: 10, dataset: 'mnist', inputEncoding: 'binary' });
    expect(problems).toEqual([]);
  });
});

describe('a Keras 3 Sequential saved without an Input layer', () => {
  it('takes its input shape from the build config', async () => {
    const config = keras3MlpConfig();
    const layers = (config.config as { layers: unknown[] }).layers.slice(1);
    const bytes = await keras3Zip({ ...config, config: { ...(config.config as object), layers }, build_config: { input_shape: [null, 784] } }, {
      dense: [[[784, 8], seeded(784 * 8, 1)], [[8], seeded(8, 2)]],
      dense_1: [[[8, 10], seeded(80, 3)], [[10], seeded(10, 4)]],
    });
    const source = importedSource(await keras3Artifacts(bytes, 'noinput.keras'));
    expect(source.inputShape).toEqual([784]);
    expect(source.layers.map((l) => l.name)).toEqual(['hidden', 'logits']);
  });
});

describe('a legacy Keras .h5 file (Sequential, model_config + model_weights)', () => {
  it('imports with the outputs NumPy computes from the same weights (within 1e-4)', async () => {
    const { imported, values } = await outputs('mlp.h5');
    expect(imported.format).toBe('keras-h5');
    expect(importedSource(imported).layers.map((l) => l.className)).toEqual(['Conv2D', 'MaxPooling2D', 'Flatten', 'Dense', 'Dense']);
    expect(largestDifference(values, reference['mlp.h5'], 'mlp.h5', 'NumPy')).toBeLessThan(1e-4);
  });

  it('is refused up front for a dataset whose images it does not take', async () => {
    const imported = await importModel(join(dir, 'mlp.h5'), 'mlp.h5');
    const { problems } = planConversion(importedSource(imported), { shape: [32, 32, 3], classes: 10, dataset: 'cifar10', inputEncoding: 'binary' });
    expect(problems.map((p) => p.message).join('\n')).toMatch(/input shape 28×28×1 does not match the dataset cifar10/);
  });
});

describe('whetstone sharpen model.keras', () => {
  // The fixture's weights are untrained: this checks that the CLI reads the file and trains it, not accuracy.
  it('reads the file and trains the rewritten network', async () => {
    const r = await cli(['sharpen', join(dir, 'cnn.keras'), '--data', 'mnist', '--limit', '200', '--epochs', '1', '--key-width', '1', '--out', join(dir, 'runs')]);
    expect(r.stderr).toMatch(/source: .*cnn\.keras \(keras3 Functional, 28,582 parameters\)/);
    expect(r.stderr).toMatch(/^epoch +1 \|/m);
  }, 120_000);
});
