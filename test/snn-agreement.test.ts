/**
 * Exact agreement on trained networks: a small dense network and a small CNN are trained and
 * sharpened through the library (trainExperiment, wasm backend); the simulator's predicted class
 * equals the sharpened tfjs model's (run/model) for every one of 2,000 MNIST test images, and its
 * accuracy is the spiking accuracy `train` recorded. The full 10,000-image check is in `npm run bench`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetSpecFromConfig } from '../src/config/dataset-spec.js';
import { loadExperiment } from '../src/config/loader.js';
import { loadDataset, type Dataset } from '../src/data/index.js';
import { loadModel } from '../src/model/io.js';
import { convertModelDir } from '../src/snn/from-tfjs.js';
import { evaluateRun, loadArtifact, predictSpiking, writeArtifact } from '../src/snn/index.js';
import { predictClasses } from '../src/train/evaluate.js';
import { trainExperiment, type TrainResult } from '../src/train/index.js';

const TEST_IMAGES = 2000;
const common = `
seed: 5
dataset: {name: mnist, limit: {train: TRAIN, test: ${TEST_IMAGES}}, validation: 0.1}
training: {epochs: 6, batch_size: 64, optimizer: {name: adam, learning_rate: 0.002}}
sharpening: {schedule: simple, order: bottom_up, start_epoch: 2, steps: 40, per: batch}
`;
const CONFIGS = {
  dense: `name: agree-dense${common.replace('TRAIN', '6000')}
model:
  layers:
    - {type: flatten}
    - {type: dense, units: 64}
    - {type: spiking}
  output: {neurons_per_class: 10}
`,
  cnn: `name: agree-cnn${common.replace('TRAIN', '3000')}
model:
  layers:
    - {type: conv2d, filters: 4, kernel_size: 3}
    - {type: spiking}
    - {type: max_pool2d, pool_size: 2}
    - {type: flatten}
    - {type: dense, units: 32}
    - {type: spiking}
  output: {neurons_per_class: 10}
`,
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'whetstone-agree-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(Object.entries(CONFIGS))('trained %s network', (name, yaml) => {
  let run: TrainResult;
  let data: Dataset;

  beforeAll(async () => {
    const config = join(dir, `${name}.yaml`);
    writeFileSync(config, yaml);
    run = await trainExperiment(config, { outDir: join(dir, 'runs'), backend: 'wasm' });
    data = await loadDataset(datasetSpecFromConfig(loadExperiment(join(run.runDir, 'config.yaml')).config));
  }, 240_000);

  it(`predicts exactly the classes of the sharpened tfjs model on all ${TEST_IMAGES} test images`, async () => {
    expect(data.test.count).toBe(TEST_IMAGES);
    const model = await loadModel(join(run.runDir, 'model'));
    const expected = predictClasses(model, data.test, data.shape);
    model.dispose();
    const network = await convertModelDir(join(run.runDir, 'model'));
    const predicted = predictSpiking(network, data.test);
    const disagreements = [...predicted.keys()].filter((i) => predicted[i] !== expected[i]);
    expect(disagreements).toEqual([]);
    // The simulator's accuracy is the spiking accuracy train measured with tfjs.
    let correct = 0;
    for (let i = 0; i < predicted.length; i++) if (predicted[i] === data.test.labels[i]) correct++;
    expect(correct / TEST_IMAGES).toBe(run.summary.spiking_accuracy);
    expect(run.summary.spiking_accuracy).toBeGreaterThan(0.5); // a trained network, not chance
  });

  it('written as snn/, reloads and evaluates on the run\'s own test split without tfjs conversion', async () => {
    const network = await convertModelDir(join(run.runDir, 'model'));
    writeArtifact(join(run.runDir, 'snn'), network);
    expect(loadArtifact(run.runDir)).toEqual(network);
    const { result, networkSource } = await evaluateRun(run.runDir);
    expect(networkSource).toBe(join(run.runDir, 'snn', 'network.json'));
    expect(result.images).toBe(TEST_IMAGES);
    expect(result.accuracy).toBe(run.summary.spiking_accuracy);
    expect(result.layers.at(-1)!.neurons).toBe(100);
    for (const l of result.layers) {
      expect(l.fraction_active).toBeGreaterThan(0);
      expect(l.fraction_active).toBeLessThan(1);
    }
    // Event-driven: fewer synaptic events than the dense network's multiply-accumulates.
    expect(result.totals.events_per_mac).toBeLessThan(1);
  });
});
