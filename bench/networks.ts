/**
 * The networks `npm run bench:train` times: the issue's small MNIST CNN (plain tfjs layers, Adam,
 * batch 64) and the models `whetstone train` builds from configs/*.yaml (with their optimizer and
 * batch size). Each one also describes itself as a layer list (`TorchSpec`) from which
 * bench/torch_reference.py builds the same network in PyTorch.
 */
import { join } from 'node:path';
import { tf } from '../src/backend/index.js';
import { loadExperiment } from '../src/config/loader.js';
import type { ExperimentConfig } from '../src/config/schema.js';
import { buildModel } from '../src/model/builder.js';
import { SeededRandom } from '../src/util/random.js';
import { createOptimizer } from '../src/train/optimizer.js';
import type { Dataset } from '../src/data/index.js';
import { normaliseBatch } from '../src/data/index.js';

/** A layer as the PyTorch reference builds it (NHWC shapes as tfjs sees them). */
export type TorchLayer = Record<string, unknown> & { type: string };

export interface TorchSpec {
  input: [number, number, number];
  optimizer: { name: string; lr: number };
  /** Sum of the per-example loss is averaged over the batch, as tfjs-layers does. */
  loss: 'categorical_crossentropy';
  layers: TorchLayer[];
}

export interface BenchNetwork {
  id: string;
  /** One line: layers and training setup. */
  describe: string;
  batchSize: number;
  classes: number;
  /** Present for config networks: the config it was built from. */
  config?: ExperimentConfig;
  build(): { model: tf.LayersModel; optimizer: tf.Optimizer; spec: TorchSpec };
}

const glorot = (seed: number) => tf.initializers.glorotUniform({ seed });

/** The issue's network: conv 3×3×32 → maxpool → conv 3×3×64 → maxpool → dense 128 → dense 10, Adam. */
function smallCnn(): BenchNetwork {
  return {
    id: 'mnist-small',
    describe: 'conv3×3×32 → pool → conv3×3×64 → pool → dense128 → dense10 (relu, softmax), Adam 1e-3, batch 64',
    batchSize: 64,
    classes: 10,
    build() {
      const m = tf.sequential();
      m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: glorot(3) }));
      m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
      m.add(tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: glorot(4) }));
      m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
      m.add(tf.layers.flatten());
      m.add(tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: glorot(5) }));
      m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: glorot(6) }));
      const optimizer = tf.train.adam(1e-3);
      m.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
      return { model: m, optimizer, spec: specOf(m, [28, 28, 1], { name: 'adam', lr: 1e-3 }) };
    },
  };
}

function configNetwork(root: string, name: string): BenchNetwork {
  const { config } = loadExperiment(join(root, 'configs', `${name}.yaml`));
  const shape: [number, number, number] = [28, 28, 1];
  const opt = config.training.optimizer;
  const lr = opt.learning_rate ?? { adam: 0.001, adadelta: 4.0, sgd: 0.01, rmsprop: 0.001 }[opt.name];
  return {
    id: name,
    describe: `configs/${name}.yaml: ${config.model.layers.map((l) => l.type).join(' ')}, ${opt.name} ${lr}, batch ${config.training.batch_size}`,
    batchSize: config.training.batch_size,
    classes: 10,
    config,
    build() {
      const { model } = buildModel(config.model, { inputShape: shape, classes: 10, seed: config.seed });
      const optimizer = createOptimizer(opt);
      model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
      return { model, optimizer, spec: specOf(model, shape, { name: opt.name, lr }) };
    },
  };
}

/** The networks, in the order they are reported. Config networks are all 28×28×1 (MNIST-shaped). */
export function benchNetworks(root: string): BenchNetwork[] {
  return [smallCnn(), ...['mnist-cnn', 'quickstart', 'ci-smoke', 'mnist-dense'].map((n) => configNetwork(root, n))];
}

/** A tfjs layer as the PyTorch reference's layer list. */
function specOf(model: tf.LayersModel, input: [number, number, number], optimizer: TorchSpec['optimizer']): TorchSpec {
  const layers: TorchLayer[] = [];
  for (const layer of model.layers) {
    const c = layer.getConfig() as Record<string, unknown>;
    const activation = typeof c['activation'] === 'string' ? c['activation'] : 'linear';
    switch (layer.getClassName()) {
      case 'Conv2D':
        layers.push({ type: 'conv2d', filters: c['filters'], kernel: c['kernelSize'], strides: c['strides'], padding: c['padding'], bias: c['useBias'], activation });
        break;
      case 'Dense':
        layers.push({ type: 'dense', units: c['units'], bias: c['useBias'], activation });
        break;
      case 'MaxPooling2D':
      case 'AveragePooling2D':
        layers.push({ type: layer.getClassName() === 'MaxPooling2D' ? 'max_pool2d' : 'avg_pool2d', pool: c['poolSize'], strides: c['strides'], padding: c['padding'] });
        break;
      case 'Flatten':
        layers.push({ type: 'flatten' });
        break;
      case 'BatchNormalization':
        layers.push({ type: 'batch_norm', epsilon: c['epsilon'], momentum: c['momentum'] });
        break;
      case 'Dropout':
        layers.push({ type: 'dropout', rate: c['rate'] });
        break;
      case 'SpikeEncoder':
        layers.push({ type: 'spike_encoder', threshold: c['threshold'] });
        break;
      case 'SpikingBRelu':
        layers.push({ type: 'spiking_brelu', sharpness: c['sharpness'] });
        break;
      case 'SpikingSigmoid':
        layers.push({ type: 'spiking_sigmoid', sharpness: c['sharpness'] });
        break;
      case 'SoftmaxDecode':
        layers.push({ type: 'softmax_decode', key: c['key'] });
        break;
      default:
        throw new Error(`bench: no PyTorch equivalent for layer ${layer.getClassName()}`);
    }
  }
  return { input, optimizer, loss: 'categorical_crossentropy', layers };
}

/** `count` MNIST training images (scaled to [0, 1]) from a seeded draw, with their labels. */
export function benchBatch(data: Dataset, count: number, seed: number): { x: Float32Array; labels: Uint8Array } {
  const rng = new SeededRandom(seed);
  const idx = Array.from({ length: count }, () => rng.int(data.train.count));
  const b = normaliseBatch(data.train, idx, data.shape);
  return { x: b.x, labels: b.y };
}
