/**
 * tfjs model → SpikingNetwork: on the wasm backend, every spiking layer of the converted network
 * fires exactly where the tfjs model's does, image by image, for dense and convolutional stacks,
 * binary and analog input, strides, 'same'/'valid' padding, max pooling before or after the
 * spiking activation, sigmoid and bounded-ReLU steps, dropout and folded batch norm. What a spiking
 * network cannot represent is refused with an InputError naming the layer.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/backend/index.js';
import { tf } from '../src/backend/tf.js';
import type { ModelConfig } from '../src/config/schema.js';
import { loadDataset, normaliseBatch, identityOrder, type DatasetSplit } from '../src/data/index.js';
import { InputError } from '../src/errors.js';
import { buildModel } from '../src/model/builder.js';
import { foldBatchNorm } from '../src/model/fold.js';
import { SoftmaxDecode } from '../src/model/layers/decode.js';
import { SpikingBRelu, isSpikingLayer } from '../src/model/layers/spiking.js';
import { convertModel } from '../src/snn/from-tfjs.js';
import { neuronCount, neuronLayers, sizeOf, type SpikingNetwork } from '../src/snn/network.js';
import { SpikingSimulator } from '../src/snn/simulator.js';
import { SeededRandom } from '../src/util/random.js';

const IMAGES = 300;
let test: DatasetSplit;
const shape = [28, 28, 1] as const;

beforeAll(async () => {
  await initBackend('wasm');
  const data = await loadDataset({ name: 'mnist', limit: { test: IMAGES } });
  test = data.test;
});

type Layers = ModelConfig['layers'];

/** A built model with random biases (the builder starts them at zero), every spiking layer at sharpness 1. */
function spikingModel(layers: Layers, encoding: 'binary' | 'analog', seed: number, activation: 'brelu' | 'sigmoid' = 'brelu'): tf.Sequential {
  const config = { activation, input_encoding: encoding, input_threshold: 0.5, layers, output: { neurons_per_class: 4, overlapping: false, batch_norm: false } } as ModelConfig;
  const { model, spikingLayers } = buildModel(config, { inputShape: shape, classes: 10, seed });
  const rng = new SeededRandom(seed + 100);
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if (cls !== 'Dense' && cls !== 'Conv2D') continue;
    const [kernel, bias] = layer.getWeights();
    if (bias === undefined) continue;
    const newBias = tf.tensor1d(Float32Array.from({ length: bias!.size }, () => (rng.next() - 0.3) * 0.6));
    layer.setWeights([kernel!, newBias]);
  }
  spikingLayers.forEach((l) => l.setSharpness(1));
  return model;
}

/** Every layer's output for the test images, by layer name. */
function tfjsOutputs(model: tf.LayersModel): Map<string, Float32Array> {
  const batch = normaliseBatch(test, identityOrder(IMAGES), shape);
  const probe = tf.model({ inputs: model.inputs, outputs: model.layers.map((l) => l.output as tf.SymbolicTensor) });
  const x = tf.tensor4d(batch.x, [IMAGES, ...shape]);
  const outs = probe.predict(x) as tf.Tensor[];
  const map = new Map(model.layers.map((l, i) => [l.name, outs[i]!.dataSync() as Float32Array]));
  tf.dispose([x, ...outs]);
  return map;
}

/** Asserts the simulator's neuron layer k fires exactly as tfjs layer `name` outputs, for every image. */
function expectSameSpikes(network: SpikingNetwork, outputs: Map<string, Float32Array>, pairs: [string, number][]): void {
  const sim = new SpikingSimulator(network);
  const pixels = sizeOf(network.input.shape);
  const layers = neuronLayers(network);
  const fired = pairs.map(() => 0);
  for (let i = 0; i < IMAGES; i++) {
    sim.classify(test.images, i * pixels);
    pairs.forEach(([name, k], p) => {
      const n = neuronCount(layers[k]!);
      const expected = outputs.get(name)!.subarray(i * n, (i + 1) * n);
      const got = sim.layerSpikes(k);
      for (let j = 0; j < n; j++) {
        if (got[j] !== expected[j]) throw new Error(`image ${i}: ${name} neuron ${j} is ${expected[j]} in tfjs, ${got[j]} in the simulator (layer ${k})`);
      }
      fired[p]! += got.reduce((a, b) => a + b, 0);
    });
  }
  // Non-trivial activity, or the comparison proves little.
  fired.forEach((f, p) => expect(f, `${pairs[p]![0]} never fires`).toBeGreaterThan(0));
}

function expectSameClasses(model: tf.LayersModel, network: SpikingNetwork, outputs: Map<string, Float32Array>): void {
  const probs = outputs.get(model.layers.at(-1)!.name)!;
  const classes = network.output.key.length;
  const sim = new SpikingSimulator(network);
  const pixels = sizeOf(network.input.shape);
  for (let i = 0; i < IMAGES; i++) {
    const row = probs.subarray(i * classes, (i + 1) * classes);
    let best = 0;
    for (let c = 1; c < classes; c++) if (row[c]! > row[best]!) best = c; // tf.argMax: first maximum
    expect(sim.classify(test.images, i * pixels), `image ${i}`).toBe(best);
  }
}

const denseStack: Layers = [{ type: 'flatten' }, { type: 'dense', units: 48, use_bias: true }, { type: 'spiking' }];
const cnnStack: Layers = [
  { type: 'conv2d', filters: 4, kernel_size: 3, strides: 1, padding: 'same', use_bias: true },
  { type: 'spiking' },
  { type: 'max_pool2d', pool_size: 2, padding: 'valid' },
  { type: 'flatten' },
  { type: 'dropout', rate: 0.2 },
  { type: 'dense', units: 24, use_bias: true },
  { type: 'spiking' },
];
/** Strided, asymmetric kernel, 'same' with odd padding; max pool between conv and its activation; a 'valid' conv. */
const poolBeforeSpiking: Layers = [
  { type: 'conv2d', filters: 5, kernel_size: [3, 4], strides: 2, padding: 'same', use_bias: true },
  { type: 'max_pool2d', pool_size: 3, strides: 2, padding: 'same' },
  { type: 'spiking' },
  { type: 'conv2d', filters: 6, kernel_size: 2, strides: 1, padding: 'valid', use_bias: true },
  { type: 'spiking' },
  { type: 'flatten' },
  { type: 'dense', units: 20, use_bias: true },
  { type: 'spiking' },
];

describe('convertModel agrees with tfjs (wasm) neuron for neuron', () => {
  for (const encoding of ['binary', 'analog'] as const) {
    it(`dense, ${encoding} input`, () => {
      const model = spikingModel(denseStack, encoding, 1);
      const network = convertModel(model);
      expect(network.input.encoding).toBe(encoding);
      expect(network.layers.map((l) => l.type)).toEqual(['flatten', 'dense', 'dense']);
      const outputs = tfjsOutputs(model);
      expectSameSpikes(network, outputs, [
        ['l02_spiking', 0],
        ['output_spiking', 1],
      ]);
      expectSameClasses(model, network, outputs);
    });

    it(`conv → spiking → max pool → flatten → dropout → dense, ${encoding} input`, () => {
      const model = spikingModel(cnnStack, encoding, 2);
      const network = convertModel(model);
      expect(network.layers.map((l) => l.type)).toEqual(['conv2d', 'or_pool2d', 'flatten', 'dense', 'dense']);
      const outputs = tfjsOutputs(model);
      expectSameSpikes(network, outputs, [
        ['l01_spiking', 0],
        ['l02_max_pool2d', 1],
        ['l06_spiking', 2],
        ['output_spiking', 3],
      ]);
      expectSameClasses(model, network, outputs);
    });
  }

  it('conv → max pool → spiking (pooling pre-activations) becomes neurons then an OR; sigmoid steps at 0', () => {
    const model = spikingModel(poolBeforeSpiking, 'binary', 3, 'sigmoid');
    const network = convertModel(model);
    expect(network.layers.map((l) => l.type)).toEqual(['conv2d', 'or_pool2d', 'conv2d', 'flatten', 'dense', 'dense']);
    const first = network.layers[0]!;
    if (first.type !== 'conv2d') throw new Error('expected conv2d');
    expect(first.padding).toEqual({ top: 0, bottom: 1, left: 1, right: 1 }); // tfjs 'same': smaller half first
    expect(first.threshold[0]).toBe(0);
    const outputs = tfjsOutputs(model);
    expectSameSpikes(network, outputs, [
      ['l02_spiking', 1],
      ['l04_spiking', 2],
      ['l07_spiking', 3],
      ['output_spiking', 4],
    ]);
    expectSameClasses(model, network, outputs);
  });

  it('a model with batch norm, once folded (model/fold.ts), converts and agrees', async () => {
    const layers: Layers = [
      { type: 'conv2d', filters: 4, kernel_size: 3, strides: 1, padding: 'same', use_bias: false },
      { type: 'batch_norm', epsilon: 1e-3, momentum: 0.99 },
      { type: 'spiking' },
      { type: 'max_pool2d', pool_size: 2, padding: 'valid' },
      { type: 'flatten' },
      { type: 'dense', units: 16, use_bias: true },
      { type: 'spiking' },
    ];
    const model = spikingModel(layers, 'binary', 4);
    expect(() => convertModel(model)).toThrow(/l01_batch_norm.*must be folded/);
    // Give the batch norm non-trivial statistics, then fold.
    const bn = model.layers.find((l) => l.getClassName() === 'BatchNormalization')!;
    bn.setWeights([tf.tensor1d([1.5, 0.5, 2, 1]), tf.tensor1d([0.1, -0.2, 0.3, 0]), tf.tensor1d([0.2, -0.1, 0, 0.4]), tf.tensor1d([0.5, 2, 1, 0.25])]);
    const folded = await foldBatchNorm(model);
    folded.layers.filter(isSpikingLayer).forEach((l) => l.setSharpness(1));
    const network = convertModel(folded);
    const outputs = tfjsOutputs(folded);
    expectSameSpikes(network, outputs, [
      ['l02_spiking', 0],
      ['l06_spiking', 2],
    ]);
    expectSameClasses(folded, network, outputs);
  });

  it('spiking → average pool → flatten → dense folds the average into the dense weights', () => {
    const layers: Layers = [
      { type: 'conv2d', filters: 4, kernel_size: 3, strides: 1, padding: 'same', use_bias: true },
      { type: 'spiking' },
      { type: 'avg_pool2d', pool_size: 3, strides: 2, padding: 'same' },
      { type: 'flatten' },
      { type: 'dense', units: 24, use_bias: true },
      { type: 'spiking' },
    ];
    const model = spikingModel(layers, 'binary', 5);
    const network = convertModel(model);
    expect(network.layers.map((l) => l.type)).toEqual(['conv2d', 'flatten', 'dense', 'dense']);
    const dense = network.layers[2]!;
    if (dense.type !== 'dense') throw new Error('expected dense');
    expect(dense.inputSize).toBe(28 * 28 * 4); // over the spikes before pooling
    expect(dense.source).toEqual(['l02_avg_pool2d', 'l04_dense', 'l05_spiking']);
    // Folding changes the order of float additions, so a neuron within rounding of θ could differ;
    // on these images none does.
    const outputs = tfjsOutputs(model);
    expectSameSpikes(network, outputs, [
      ['l01_spiking', 0],
      ['l05_spiking', 1],
    ]);
  });
});

describe('convertModel refuses what a spiking network cannot represent, naming the layer', () => {
  const refusal = (model: tf.LayersModel): string => {
    try {
      convertModel(model);
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      return (e as Error).message;
    }
    throw new Error('converted without error');
  };

  it('a layer that is not fully sharpened', () => {
    const model = spikingModel(denseStack, 'binary', 1);
    (model.layers.find((l) => l.name === 'l02_spiking') as SpikingBRelu).setSharpness(0.75);
    expect(refusal(model)).toMatch(/l02_spiking \(SpikingBRelu\): sharpness is 0\.75; only a fully sharpened network/);
  });

  it('a non-spiking activation', () => {
    const m = tf.sequential();
    m.add(tf.layers.flatten({ inputShape: [28, 28, 1], name: 'f' }));
    m.add(tf.layers.dense({ units: 8, activation: 'relu', name: 'hidden' }));
    expect(refusal(m)).toMatch(/hidden \(Dense\): activation 'relu' is not a spiking activation/);
  });

  it('average pooling between a conv and its spiking activation, or before a conv', () => {
    const a = spikingModel(
      [{ type: 'conv2d', filters: 2, kernel_size: 3, strides: 1, padding: 'same', use_bias: true }, { type: 'avg_pool2d', pool_size: 2, padding: 'valid' }, { type: 'spiking' }, { type: 'flatten' }],
      'binary',
      1,
    );
    expect(refusal(a)).toMatch(/l01_avg_pool2d \(AveragePooling2D\): average pooling between a linear layer and its spiking activation/);
    const b = spikingModel(
      [
        { type: 'conv2d', filters: 2, kernel_size: 3, strides: 1, padding: 'same', use_bias: true },
        { type: 'spiking' },
        { type: 'avg_pool2d', pool_size: 2, padding: 'valid' },
        { type: 'conv2d', filters: 2, kernel_size: 3, strides: 1, padding: 'same', use_bias: true },
        { type: 'spiking' },
        { type: 'flatten' },
      ],
      'binary',
      1,
    );
    expect(refusal(b)).toMatch(/l03_conv2d \(Conv2D\): average pooling \(l02_avg_pool2d\) must be followed by \[flatten and\] a dense layer/);
  });

  it('max pooling of analog input', () => {
    const m = spikingModel([{ type: 'max_pool2d', pool_size: 2, padding: 'valid' }, { type: 'flatten' }, { type: 'dense', units: 4, use_bias: true }, { type: 'spiking' }], 'analog', 1);
    expect(refusal(m)).toMatch(/l00_max_pool2d \(MaxPooling2D\): max pooling of analog input is not a spiking operation/);
  });

  it('a model without the SoftmaxDecode output key', () => {
    const m = spikingModel(denseStack, 'binary', 1);
    const noDecode = tf.sequential();
    for (const layer of m.layers) if (!(layer instanceof SoftmaxDecode)) noDecode.add(layer);
    expect(refusal(noDecode)).toMatch(/the last layer must be SoftmaxDecode/);
  });
});
