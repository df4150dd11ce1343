/**
 * Structural checks of a SpikingNetwork: every shape follows from the one before, every array has
 * the length its shape implies, every number is finite, the key fits the output layer. Run after
 * conversion and on every load, so that the simulator and the exporters may trust what they get.
 */
import { InputError } from '../errors.js';
import { inputShapeOf, outputShapeOf, sizeOf, windowOutputSize, type SnnLayer, type SpikingNetwork } from './network.js';

const isPositiveInt = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n > 0;
const isNonNegativeInt = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0;
const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

/** Most classes a network may have: predictions are stored as bytes, as dataset labels are. */
export const MAX_CLASSES = 256;

/** Throws InputError `<where>: <path>: <problem>` for the first problem found. */
export function validateNetwork(network: SpikingNetwork, where: string): void {
  const fail = (path: string, message: string): never => {
    throw new InputError(`${where}: ${path}: ${message}`);
  };
  const { input } = network;
  if (!Array.isArray(input.shape) || input.shape.length !== 3 || !input.shape.every(isPositiveInt)) {
    fail('input.shape', 'must be [height, width, channels] of positive integers');
  }
  if (input.encoding === 'binary') {
    if (typeof input.threshold !== 'number' || !(input.threshold >= 0 && input.threshold <= 1)) fail('input.threshold', 'must be a number in [0, 1]');
  } else if (input.encoding !== 'analog') {
    fail('input.encoding', `must be 'binary' or 'analog', not ${JSON.stringify(input.encoding)}`);
  }
  if (network.layers.length === 0) fail('layers', 'is empty');

  let shape: readonly number[] = input.shape;
  let neuronLayers = 0;
  network.layers.forEach((layer, i) => {
    const at = `layers[${i}] (${layer.name})`;
    checkLayer(layer, at, fail);
    const expected = inputShapeOf(layer);
    if (!sameShape(expected, shape)) fail(at, `expects input ${fmt(expected)} but the previous layer gives ${fmt(shape)}`);
    if (layer.type !== 'flatten') {
      if (layer.type === 'or_pool2d' && neuronLayers === 0 && input.encoding === 'analog') {
        fail(at, 'an OR pool cannot take analog input (max pooling of real values is not a spiking operation)');
      }
      neuronLayers++;
    }
    shape = outputShapeOf(layer);
  });
  if (neuronLayers === 0) fail('layers', 'has no neuron layer');
  if (shape.length !== 1) fail('layers', `the last layer outputs ${fmt(shape)}; the output key needs a flat vector (add a flatten)`);

  const { key, classNames } = network.output;
  const width = shape[0]!;
  if (!Array.isArray(key) || key.length === 0) fail('output.key', 'must be a non-empty list of rows');
  if (key.length > MAX_CLASSES) fail('output.key', `has ${key.length} classes; at most ${MAX_CLASSES} are supported`);
  key.forEach((row, c) => {
    if (!Array.isArray(row) || row.length !== width) fail(`output.key[${c}]`, `must have ${width} entries (the output layer's neurons)`);
    if (!row.every((v) => v === 0 || v === 1)) fail(`output.key[${c}]`, 'entries must be 0 or 1');
  });
  if (!Array.isArray(classNames) || classNames.length !== key.length || !classNames.every((n) => typeof n === 'string')) {
    fail('output.class_names', `must be ${key.length} strings, one per key row`);
  }
}

function checkLength(a: Float32Array, n: number, path: string, fail: (p: string, m: string) => never): void {
  if (!(a instanceof Float32Array) || a.length !== n) fail(path, `must hold ${n} float32 values, holds ${a?.length ?? 'none'}`);
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) fail(path, `value ${i} is ${a[i]} (must be finite)`);
}

function checkLayer(layer: SnnLayer, at: string, fail: (p: string, m: string) => never): void {
  if (typeof layer.name !== 'string') fail(at, 'needs a name');
  switch (layer.type) {
    case 'flatten':
      if (layer.order !== 'hwc') fail(at, `flatten order must be 'hwc', not ${JSON.stringify(layer.order)}`);
      if (!layer.inputShape.every(isPositiveInt) || layer.inputShape.length !== 3) fail(at, 'input_shape must be 3 positive integers');
      return;
    case 'dense':
      if (!isPositiveInt(layer.inputSize) || !isPositiveInt(layer.units)) fail(at, 'input_size and units must be positive integers');
      checkLength(layer.weights, layer.inputSize * layer.units, `${at}.weights`, fail);
      checkLength(layer.bias, layer.units, `${at}.bias`, fail);
      checkLength(layer.threshold, layer.units, `${at}.threshold`, fail);
      return;
    case 'conv2d':
    case 'or_pool2d': {
      const window = layer.type === 'conv2d' ? layer.kernel : layer.pool;
      const shapes = [layer.inputShape, layer.outputShape];
      if (!shapes.every((s) => Array.isArray(s) && s.length === 3 && s.every(isPositiveInt))) fail(at, 'input_shape and output_shape must be 3 positive integers each');
      if (!window.every(isPositiveInt) || window.length !== 2) fail(at, 'window size must be 2 positive integers');
      if (!layer.strides.every(isPositiveInt) || layer.strides.length !== 2) fail(at, 'strides must be 2 positive integers');
      const p = layer.padding;
      if (![p.top, p.bottom, p.left, p.right].every(isNonNegativeInt)) fail(at, 'padding must be 4 integers ≥ 0');
      if (p.top >= window[0] || p.bottom >= window[0] || p.left >= window[1] || p.right >= window[1]) {
        fail(at, 'padding must be smaller than the window (a window entirely in padding sees nothing)');
      }
      const h = windowOutputSize(layer.inputShape[0], window[0], layer.strides[0], p.top, p.bottom);
      const w = windowOutputSize(layer.inputShape[1], window[1], layer.strides[1], p.left, p.right);
      const c = layer.type === 'conv2d' ? layer.outputShape[2] : layer.inputShape[2];
      if (!sameShape(layer.outputShape, [h, w, c])) fail(at, `output_shape ${fmt(layer.outputShape)} does not follow from the input, window, strides and padding (expected ${fmt([h, w, c])})`);
      if (layer.type === 'conv2d') {
        const [kh, kw] = layer.kernel;
        checkLength(layer.weights, kh * kw * layer.inputShape[2] * layer.outputShape[2], `${at}.weights`, fail);
        checkLength(layer.bias, layer.outputShape[2], `${at}.bias`, fail);
        checkLength(layer.threshold, layer.outputShape[2], `${at}.threshold`, fail);
      }
      return;
    }
    default:
      fail(at, `unknown layer type ${JSON.stringify((layer as { type: unknown }).type)}`);
  }
}

/** Total neurons of the network's neuron layers. */
export function totalNeurons(network: SpikingNetwork): number {
  return network.layers.reduce((n, l) => n + (l.type === 'flatten' ? 0 : sizeOf(outputShapeOf(l))), 0);
}
