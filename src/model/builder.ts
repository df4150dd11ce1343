/**
 * Builds the tfjs-layers model an experiment describes:
 *
 *   input → [SpikeEncoder] → hidden layers (config) → Dense(width) → [BatchNorm] → spiking → SoftmaxDecode
 *
 * and checks, before any tfjs work, that the stack is one a spiking network can represent:
 * every conv2d/dense is followed by a spiking layer, batch norm sits right after a conv2d/dense
 * (so it can be folded exactly), shapes stay valid. Problems name the config path.
 */
import { InputError } from '../errors.js';
import type { LayerConfig, ModelConfig } from '../config/schema.js';
import type { ImageShape } from '../data/types.js';
import { SeededRandom } from '../util/random.js';
import { generateKey, type OutputKey } from './key.js';
import { SoftmaxDecode } from './layers/decode.js';
import { SpikeEncoder, SpikingBRelu, SpikingSigmoid, isSpikingLayer, type SpikingLayer } from './layers/spiking.js';
import { tf } from './tf.js';

export interface BuiltModel {
  readonly model: tf.Sequential;
  readonly key: OutputKey;
  /** The spiking layers, input side first: what the sharpening schedule drives. */
  readonly spikingLayers: readonly SpikingLayer[];
}

export interface BuildOptions {
  readonly inputShape: ImageShape;
  readonly classes: number;
  readonly seed: number;
}

type Shape = number[];

const pair = (v: number | readonly [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

function pooledSize(n: number, window: number, stride: number, padding: 'same' | 'valid'): number {
  return padding === 'same' ? Math.ceil(n / stride) : Math.floor((n - window) / stride) + 1;
}

/** Checks the layer stack and returns the output shape of each hidden layer. Throws InputError. */
export function checkLayers(layers: readonly LayerConfig[], inputShape: ImageShape): Shape[] {
  const fail = (i: number, message: string): never => {
    throw new InputError(`model.layers.${i} (${layers[i]!.type}): ${message}`);
  };
  let shape: Shape = [...inputShape];
  let pendingLinear: number | undefined; // index of a conv2d/dense not yet followed by a spiking layer
  let previous: LayerConfig['type'] | undefined;
  const shapes: Shape[] = [];
  layers.forEach((layer, i) => {
    const spatial = shape.length === 3;
    switch (layer.type) {
      case 'conv2d':
      case 'max_pool2d':
      case 'avg_pool2d': {
        if (!spatial) fail(i, `needs an image input (height, width, channels) but gets a flat vector of ${shape[0]}`);
        const [kh, kw] = pair(layer.type === 'conv2d' ? layer.kernel_size : layer.pool_size);
        const [sh, sw] = pair(layer.strides ?? (layer.type === 'conv2d' ? 1 : layer.pool_size));
        const h = pooledSize(shape[0]!, kh, sh, layer.padding);
        const w = pooledSize(shape[1]!, kw, sw, layer.padding);
        if (h < 1 || w < 1) fail(i, `a ${kh}×${kw} window does not fit a ${shape[0]}×${shape[1]} input`);
        if (layer.type === 'conv2d') {
          if (pendingLinear !== undefined) fail(i, `layer ${pendingLinear} needs a spiking layer before this one`);
          pendingLinear = i;
          shape = [h, w, layer.filters];
        } else shape = [h, w, shape[2]!];
        break;
      }
      case 'dense':
        if (spatial) fail(i, `needs a flat input: add {type: flatten} before it`);
        if (pendingLinear !== undefined) fail(i, `layer ${pendingLinear} needs a spiking layer before this one`);
        pendingLinear = i;
        shape = [layer.units];
        break;
      case 'flatten':
        shape = [shape.reduce((a, b) => a * b, 1)];
        break;
      case 'batch_norm':
        if (previous !== 'conv2d' && previous !== 'dense') {
          fail(i, 'must directly follow a conv2d or dense layer, so that it can be folded into it');
        }
        break;
      case 'dropout':
        break;
      case 'spiking':
        if (pendingLinear === undefined) fail(i, 'must follow a conv2d or dense layer (spikes come from weighted sums)');
        pendingLinear = undefined;
        break;
    }
    previous = layer.type;
    shapes.push([...shape]);
  });
  if (pendingLinear !== undefined) {
    throw new InputError(`model.layers.${pendingLinear} (${layers[pendingLinear]!.type}): needs a spiking layer after it`);
  }
  if (shape.length === 3) {
    throw new InputError(`model.layers: the last hidden layer outputs an image (${shape.join('×')}); add {type: flatten} at the end`);
  }
  return shapes;
}

function spikingLayer(activation: 'brelu' | 'sigmoid', name: string): SpikingLayer {
  return activation === 'sigmoid' ? new SpikingSigmoid({ name }) : new SpikingBRelu({ name });
}

/** Builds the model for an experiment. Layer names are stable (`l03_conv2d`), so checkpoints map by name. */
export function buildModel(config: ModelConfig, opts: BuildOptions): BuiltModel {
  checkLayers(config.layers, opts.inputShape);
  const rng = new SeededRandom(opts.seed);
  const init = () => tf.initializers.glorotUniform({ seed: rng.fork() });
  const model = tf.sequential({ name: 'whetstone' });
  const inputShape = [...opts.inputShape];
  const name = (i: number, type: string) => `l${String(i).padStart(2, '0')}_${type}`;

  if (config.input_encoding === 'binary') {
    model.add(new SpikeEncoder({ name: 'input_spikes', threshold: config.input_threshold, inputShape }));
  }
  const first = () => (model.layers.length === 0 ? { inputShape } : {});
  config.layers.forEach((layer, i) => {
    const n = name(i, layer.type);
    switch (layer.type) {
      case 'conv2d':
        model.add(
          tf.layers.conv2d({
            ...first(),
            name: n,
            filters: layer.filters,
            kernelSize: pair(layer.kernel_size),
            strides: pair(layer.strides),
            padding: layer.padding,
            useBias: layer.use_bias,
            kernelInitializer: init(),
          }),
        );
        break;
      case 'dense':
        model.add(tf.layers.dense({ ...first(), name: n, units: layer.units, useBias: layer.use_bias, kernelInitializer: init() }));
        break;
      case 'max_pool2d':
      case 'avg_pool2d': {
        const args = {
          ...first(),
          name: n,
          poolSize: pair(layer.pool_size),
          strides: pair(layer.strides ?? layer.pool_size),
          padding: layer.padding,
        };
        model.add(layer.type === 'max_pool2d' ? tf.layers.maxPooling2d(args) : tf.layers.averagePooling2d(args));
        break;
      }
      case 'flatten':
        model.add(tf.layers.flatten({ ...first(), name: n }));
        break;
      case 'batch_norm':
        model.add(tf.layers.batchNormalization({ name: n, epsilon: layer.epsilon, momentum: layer.momentum }));
        break;
      case 'dropout':
        model.add(tf.layers.dropout({ ...first(), name: n, rate: layer.rate, seed: rng.fork() }));
        break;
      case 'spiking':
        if (model.layers.length === 0) throw new InputError('model.layers.0: a spiking layer cannot be first');
        model.add(spikingLayer(layer.activation ?? config.activation, n));
        break;
    }
  });

  const key = generateKey({
    classes: opts.classes,
    neuronsPerClass: config.output.neurons_per_class,
    width: config.output.width,
    overlapping: config.output.overlapping,
    seed: rng.fork(),
  });
  const width = key[0]!.length;
  model.add(tf.layers.dense({ name: 'output_dense', units: width, kernelInitializer: init() }));
  if (config.output.batch_norm) model.add(tf.layers.batchNormalization({ name: 'output_batch_norm' }));
  model.add(spikingLayer(config.activation, 'output_spiking'));
  model.add(new SoftmaxDecode({ name: 'decode', key, temperature: config.output.temperature }));

  return { model, key, spikingLayers: model.layers.filter(isSpikingLayer) };
}
