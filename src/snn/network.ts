/**
 * The spiking network as its own, framework-free representation (the IR every simulator run,
 * statistic and export starts from). On disk it is `network.json` + `weights.bin`
 * (docs/snn-format.md); in memory it is this: plain objects and Float32Arrays.
 *
 * Layout: every activation map is stored HWC (height, width, channels), the order tfjs uses,
 * so a flatten is an explicit no-op on memory whose index order is recorded (`order: 'hwc'`):
 * flat index = (y·W + x)·C + c. Exporters for CHW targets permute explicitly.
 *
 * Semantics (DESIGN.md, "Semantics every part must share"): a neuron layer computes
 * z = b + Σ W·s over the previous layer's spikes s ∈ {0,1} (or over the real-valued input, for
 * the first layer when the input encoding is analog) and fires iff z ≥ θ. Neurons are memoryless.
 * Neuron layer k (1-based) fires at time step k: one step of synaptic delay per layer.
 */
import type { OutputKey } from '../model/key.js';

/** Format name and version written into network.json; the loader refuses other versions. */
export const SNN_FORMAT = 'whetstone-snn';
export const SNN_FORMAT_VERSION = 1;

/** Height, width, channels. */
export type Shape3 = readonly [height: number, width: number, channels: number];
export type Pair = readonly [number, number];

/** Explicit zero padding of a 2-D window operation, in input pixels. */
export interface Padding2d {
  readonly top: number;
  readonly bottom: number;
  readonly left: number;
  readonly right: number;
}

/**
 * How images become the first layer's input.
 * - `binary`: pixel byte b spikes iff fround(b/255) ≥ fround(threshold) — spikes only, which every
 *   target can run (the tfjs SpikeEncoder computes exactly this in float32).
 * - `analog`: the first layer receives fround(b/255) as input current (real multiplications in
 *   that layer only).
 */
export interface InputSpec {
  readonly shape: Shape3;
  readonly encoding: 'binary' | 'analog';
  /** Binary encoding only: the pixel threshold in [0, 1]. */
  readonly threshold?: number;
}

interface NeuronLayerBase {
  /** Name of the tfjs layer it came from (stable: `l03_dense`, `output_dense`). */
  readonly name: string;
  /** Names of every source layer merged into this one (linear layer, pooling, spiking activation). */
  readonly source: readonly string[];
}

/**
 * Fully connected neurons. `weights` is input-major (`inputSize × units`, the tfjs kernel layout):
 * the weights of input i's outgoing synapses are contiguous, which is what event-driven
 * propagation reads.
 */
export interface DenseLayer extends NeuronLayerBase {
  readonly type: 'dense';
  readonly inputSize: number;
  readonly units: number;
  readonly weights: Float32Array;
  /** One per neuron. */
  readonly bias: Float32Array;
  /** One per neuron. */
  readonly threshold: Float32Array;
}

/**
 * A 2-D convolution of neurons: output neuron (y, x, f) sums input window
 * rows y·sh − top … y·sh − top + kh − 1 (likewise columns) over all input channels; positions
 * outside the input are absent (zero padding). `weights` is HWIO (`kh × kw × inC × outC`).
 * Bias and threshold are per output channel, shared by the feature map as the weights are.
 */
export interface Conv2dLayer extends NeuronLayerBase {
  readonly type: 'conv2d';
  readonly inputShape: Shape3;
  readonly outputShape: Shape3;
  readonly kernel: Pair;
  readonly strides: Pair;
  readonly padding: Padding2d;
  readonly weights: Float32Array;
  readonly bias: Float32Array;
  readonly threshold: Float32Array;
}

/**
 * Max pooling over spikes: an OR, i.e. a neuron per window with unit weights and θ = 0.5
 * (DESIGN.md, "Pooling over spikes"). Per channel; padded positions are absent.
 */
export interface OrPoolLayer extends NeuronLayerBase {
  readonly type: 'or_pool2d';
  readonly inputShape: Shape3;
  readonly outputShape: Shape3;
  readonly pool: Pair;
  readonly strides: Pair;
  readonly padding: Padding2d;
}

/** Reinterprets an HWC map as a vector; `order` records the flat index order. No neurons, no delay. */
export interface FlattenLayer {
  readonly type: 'flatten';
  readonly name: string;
  readonly inputShape: Shape3;
  readonly order: 'hwc';
}

export type NeuronLayer = DenseLayer | Conv2dLayer | OrPoolLayer;
export type SnnLayer = NeuronLayer | FlattenLayer;

export interface OutputSpec {
  /** Row-major classes × width 0/1 key over the last neuron layer (DESIGN.md, "Output decoding"). */
  readonly key: OutputKey;
  readonly classNames: readonly string[];
}

export interface SpikingNetwork {
  readonly name: string;
  readonly input: InputSpec;
  readonly layers: readonly SnnLayer[];
  readonly output: OutputSpec;
}

export function isNeuronLayer(layer: SnnLayer): layer is NeuronLayer {
  return layer.type !== 'flatten';
}

/** Neuron layers in order; the k-th (0-based) fires at time step k + 1. */
export function neuronLayers(network: SpikingNetwork): NeuronLayer[] {
  return network.layers.filter(isNeuronLayer);
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Number of neurons (outputs) of a neuron layer. */
export function neuronCount(layer: NeuronLayer): number {
  return layer.type === 'dense' ? layer.units : sizeOf(layer.outputShape);
}

/** Shape of what a layer outputs: [n] for flat vectors, [h, w, c] for maps. */
export function outputShapeOf(layer: SnnLayer): readonly number[] {
  switch (layer.type) {
    case 'dense':
      return [layer.units];
    case 'flatten':
      return [sizeOf(layer.inputShape)];
    default:
      return layer.outputShape;
  }
}

/** Shape a layer expects as input. */
export function inputShapeOf(layer: SnnLayer): readonly number[] {
  return layer.type === 'dense' ? [layer.inputSize] : layer.inputShape;
}

/** Latency in time steps from the input (step 0) to the output spikes. */
export function latencySteps(network: SpikingNetwork): number {
  return neuronLayers(network).length;
}

/** Bytes of the parameters (weights, biases, thresholds) as float32: the size of weights.bin. */
export function parameterBytes(network: SpikingNetwork): number {
  let n = 0;
  for (const l of network.layers) {
    if (l.type === 'dense' || l.type === 'conv2d') n += l.weights.length + l.bias.length + l.threshold.length;
  }
  return n * 4;
}

/** Synapses: stored weights for dense layers; for conv, the connections they stand for. */
export function synapseCount(layer: NeuronLayer): number {
  switch (layer.type) {
    case 'dense':
      return layer.inputSize * layer.units;
    case 'conv2d':
      return macsOf(layer);
    case 'or_pool2d':
      return windowConnections(layer.inputShape, layer.outputShape, layer.pool, layer.strides, layer.padding) * layer.inputShape[2];
  }
}

/**
 * Multiply-accumulates of the equivalent ANN layer for one image: dense in·out; conv counts
 * only taps that fall inside the input (padding contributes nothing). Pooling has no MACs.
 */
export function macsOf(layer: NeuronLayer): number {
  switch (layer.type) {
    case 'dense':
      return layer.inputSize * layer.units;
    case 'conv2d':
      return windowConnections(layer.inputShape, layer.outputShape, layer.kernel, layer.strides, layer.padding) * layer.inputShape[2] * layer.outputShape[2];
    case 'or_pool2d':
      return 0;
  }
}

/** Σ over output positions of the number of window positions inside the input (one channel). */
function windowConnections(input: Shape3, output: Shape3, window: Pair, strides: Pair, padding: Padding2d): number {
  const along = (n: number, out: number, k: number, s: number, before: number) => {
    let total = 0;
    for (let o = 0; o < out; o++) {
      const start = o * s - before;
      total += Math.min(n, start + k) - Math.max(0, start);
    }
    return total;
  };
  return along(input[0], output[0], window[0], strides[0], padding.top) * along(input[1], output[1], window[1], strides[1], padding.left);
}

/**
 * Output size and padding of a window operation as tfjs computes them ('same': out = ⌈n/s⌉, the
 * total padding max((out−1)·s + k − n, 0) split with the smaller half first; 'valid': none).
 */
export function windowGeometry(n: number, k: number, s: number, mode: 'same' | 'valid'): { out: number; before: number; after: number } {
  if (mode === 'valid') return { out: Math.floor((n - k) / s) + 1, before: 0, after: 0 };
  const out = Math.ceil(n / s);
  const total = Math.max((out - 1) * s + k - n, 0);
  const before = Math.floor(total / 2);
  return { out, before, after: total - before };
}

/** Output size of a window op with explicit padding. */
export function windowOutputSize(n: number, k: number, s: number, before: number, after: number): number {
  return Math.floor((n + before + after - k) / s) + 1;
}
