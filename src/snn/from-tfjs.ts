/**
 * Conversion from the sharpened, batch-norm-folded tfjs model (run/model) to a SpikingNetwork.
 * The only module under src/snn that imports tfjs: the CLI and `train` call it, while loading,
 * simulating and exporting an artifact never do.
 *
 * What becomes what (DESIGN.md, "Semantics every part must share"):
 * - SpikeEncoder first → binary input with its threshold; no SpikeEncoder → analog input.
 * - Conv2D/Dense (linear, no activation) + a spiking activation at sharpness 1 → a neuron layer
 *   with θ = 0.5 (SpikingBRelu) or 0 (SpikingSigmoid).
 * - MaxPooling2D after the spiking layer → an OR layer over spikes. MaxPooling2D between the linear
 *   layer and its spiking activation (conv → max pool → spiking) becomes the same OR placed after
 *   the neurons: max commutes with the monotone step, step(max z) = OR(step z), computed from the
 *   very same float32 z, so it is exact.
 * - AveragePooling2D over spikes (or over the input) followed by [Flatten] Dense is linear before
 *   linear: it folds into the Dense weights. Other uses of average pooling are refused.
 * - Dropout disappears (identity at inference). Batch norm must already be folded (model/fold.ts).
 * - Flatten is kept as an explicit HWC-order layer.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { loadModel } from '../model/io.js';
import type { OutputKey } from '../model/key.js';
import { SoftmaxDecode } from '../model/layers/decode.js';
import { SpikeEncoder, isSpikingLayer } from '../model/layers/spiking.js';
import { tf } from '../model/tf.js';
import { sizeOf, windowGeometry, type Conv2dLayer, type DenseLayer, type OrPoolLayer, type Padding2d, type Pair, type Shape3, type SnnLayer, type SpikingNetwork } from './network.js';
import { validateNetwork } from './validate.js';

export interface ConvertOptions {
  /** Network name. Defaults to the model's name. */
  readonly name?: string;
  /** Class names, one per key row. Defaults to "0", "1", …. */
  readonly classNames?: readonly string[];
}

interface Window2d {
  readonly name: string;
  readonly inputShape: Shape3;
  readonly outputShape: Shape3;
  readonly pool: Pair;
  readonly strides: Pair;
  readonly padding: Padding2d;
}

/** A conv/dense whose spiking activation has not been seen yet, with what sits in between. */
interface PendingLinear {
  readonly layer: Omit<DenseLayer, 'threshold' | 'source'> | Omit<Conv2dLayer, 'threshold' | 'source'>;
  readonly source: string[];
  /** Max pools between the linear layer and its activation: OR layers after the neurons. */
  readonly pools: Window2d[];
  /** A flatten between the linear layer and its activation. */
  flatten?: { name: string; inputShape: Shape3 };
  shape: number[];
}

/** Average pooling over spikes (or input) waiting for the Dense it folds into. */
interface PendingAverage {
  readonly window: Window2d;
  flattened: boolean;
}

type ConfigDict = Record<string, unknown>;

const pairOf = (v: unknown, what: string, layer: string): Pair => {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((n) => typeof n === 'number')) return [v[0] as number, v[1] as number];
  throw new InputError(`layer ${layer}: unsupported ${what} ${JSON.stringify(v)}`);
};

function window2d(name: string, cfg: ConfigDict, shape: number[], sizeKey: string): Window2d {
  if (shape.length !== 3) throw new InputError(`layer ${name}: needs an image input, gets shape [${shape.join(', ')}]`);
  const inputShape = shape as unknown as Shape3;
  if ((cfg.dataFormat ?? 'channelsLast') !== 'channelsLast') throw new InputError(`layer ${name}: only channels-last (NHWC) is supported`);
  const pool = pairOf(cfg[sizeKey], sizeKey, name);
  const strides = pairOf(cfg.strides ?? cfg[sizeKey], 'strides', name);
  const mode = cfg.padding;
  if (mode !== 'same' && mode !== 'valid') throw new InputError(`layer ${name}: unsupported padding ${JSON.stringify(mode)}`);
  const gy = windowGeometry(inputShape[0], pool[0], strides[0], mode);
  const gx = windowGeometry(inputShape[1], pool[1], strides[1], mode);
  return {
    name,
    inputShape,
    outputShape: [gy.out, gx.out, inputShape[2]],
    pool,
    strides,
    padding: { top: gy.before, bottom: gy.after, left: gx.before, right: gx.after },
  };
}

/**
 * Folds an average pool (over an HWC map, flattened in HWC order) into the Dense after it:
 * W'[i, j] = Σ over windows w holding input i of W[w, j] / |w|, with |w| the number of window
 * positions inside the input (tfjs excludes padding from the average). Computed in float64.
 */
function foldAverage(avg: Window2d, weights: Float32Array, units: number): Float32Array {
  const [inH, inW, c] = avg.inputShape;
  const [outH, outW] = avg.outputShape;
  const folded = new Float64Array(inH * inW * c * units);
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      const y0 = Math.max(0, oy * avg.strides[0] - avg.padding.top);
      const y1 = Math.min(inH, oy * avg.strides[0] - avg.padding.top + avg.pool[0]);
      const x0 = Math.max(0, ox * avg.strides[1] - avg.padding.left);
      const x1 = Math.min(inW, ox * avg.strides[1] - avg.padding.left + avg.pool[1]);
      const count = (y1 - y0) * (x1 - x0);
      for (let ch = 0; ch < c; ch++) {
        const src = ((oy * outW + ox) * c + ch) * units;
        for (let y = y0; y < y1; y++) {
          for (let x = x0; x < x1; x++) {
            const dst = ((y * inW + x) * c + ch) * units;
            for (let j = 0; j < units; j++) folded[dst + j]! += weights[src + j]! / count;
          }
        }
      }
    }
  }
  return Float32Array.from(folded);
}

function weightsOf(layer: tf.layers.Layer): Float32Array[] {
  return layer.getWeights().map((w) => Float32Array.from(w.dataSync() as Float32Array));
}

/**
 * Converts a sharpened, folded tfjs Sequential model into a SpikingNetwork.
 * @throws InputError naming the layer, for anything a spiking network cannot represent exactly.
 */
export function convertModel(model: tf.LayersModel, options: ConvertOptions = {}): SpikingNetwork {
  const layers = model.layers;
  const inputShapeRaw = model.inputs[0]?.shape.slice(1);
  if (inputShapeRaw === undefined || inputShapeRaw.length !== 3 || inputShapeRaw.some((d) => typeof d !== 'number')) {
    throw new InputError(`model ${model.name}: input must be an image (height, width, channels), got [${String(inputShapeRaw)}]`);
  }
  const imageShape = inputShapeRaw as unknown as Shape3;
  const out: SnnLayer[] = [];
  let encoding = 'analog' as 'binary' | 'analog';
  let inputThreshold: number | undefined;
  let shape: number[] = [...imageShape];
  /** What the next layer receives: raw input, spikes, or the pre-activation of a pending linear layer. */
  let kind = 'input' as 'input' | 'spikes' | 'pre';
  let pending: PendingLinear | undefined;
  let average: PendingAverage | undefined;
  let key: OutputKey | undefined;

  const emitFlatten = (name: string, from: Shape3) => out.push({ type: 'flatten', name, inputShape: from, order: 'hwc' });
  const orLayer = (w: Window2d, source: string[]): OrPoolLayer => ({ type: 'or_pool2d', source, ...w });

  layers.forEach((layer, index) => {
    const cls = layer.getClassName();
    const name = layer.name;
    const cfg = layer.getConfig() as ConfigDict;
    const refuse = (why: string): never => {
      throw new InputError(`layer ${index} ${name} (${cls}): ${why}`);
    };
    if (key !== undefined) refuse('nothing may follow SoftmaxDecode');
    if (average !== undefined && cls !== 'Flatten' && cls !== 'Dense' && cls !== 'Dropout') {
      refuse(`average pooling (${average.window.name}) must be followed by [flatten and] a dense layer, into which it folds`);
    }
    switch (cls) {
      case 'InputLayer':
      case 'Dropout':
        return;
      case 'SpikeEncoder':
        if (index !== 0) refuse('the spike encoder must be the first layer');
        encoding = 'binary';
        inputThreshold = (layer as SpikeEncoder).threshold;
        return;
      case 'BatchNormalization':
        return refuse('batch normalisation must be folded into the layer before it first (model/fold.ts foldBatchNorm)');
      case 'Conv2D':
      case 'Dense': {
        if (kind === 'pre') refuse(`layer ${pending!.layer.name} needs a spiking activation before this one`);
        if ((cfg.activation ?? 'linear') !== 'linear') refuse(`activation '${String(cfg.activation)}' is not a spiking activation; use a spiking layer after a linear one`);
        const [kernel, biasRaw] = weightsOf(layer);
        if (kernel === undefined) refuse('has no kernel');
        if (cls === 'Dense') {
          if (shape.length !== 1) refuse(`needs a flat input, gets shape [${shape.join(', ')}]`);
          const units = cfg.units as number;
          let inputSize = shape[0]!;
          let weights = kernel!;
          const source = [name];
          if (average !== undefined) {
            weights = foldAverage(average.window, weights, units);
            inputSize = sizeOf(average.window.inputShape);
            source.unshift(average.window.name);
            if (!average.flattened) refuse('internal: average pool before dense without flatten');
            emitFlatten(`${average.window.name}_folded_flatten`, average.window.inputShape);
            average = undefined;
          }
          pending = { layer: { type: 'dense', name, inputSize, units, weights, bias: biasRaw ?? new Float32Array(units) }, source, pools: [], shape: [units] };
        } else {
          if (shape.length !== 3) refuse(`needs an image input, gets shape [${shape.join(', ')}]`);
          if ((cfg.dataFormat ?? 'channelsLast') !== 'channelsLast') refuse('only channels-last (NHWC) is supported');
          const dilation = pairOf(cfg.dilationRate ?? 1, 'dilation', name);
          if (dilation[0] !== 1 || dilation[1] !== 1) refuse('dilated convolution is not supported');
          const k = pairOf(cfg.kernelSize, 'kernel size', name);
          const s = pairOf(cfg.strides ?? 1, 'strides', name);
          const mode = cfg.padding;
          if (mode !== 'same' && mode !== 'valid') refuse(`unsupported padding ${JSON.stringify(mode)}`);
          const inputShape = shape as unknown as Shape3;
          const gy = windowGeometry(inputShape[0], k[0], s[0], mode as 'same' | 'valid');
          const gx = windowGeometry(inputShape[1], k[1], s[1], mode as 'same' | 'valid');
          const filters = cfg.filters as number;
          pending = {
            layer: {
              type: 'conv2d',
              name,
              inputShape,
              outputShape: [gy.out, gx.out, filters],
              kernel: k,
              strides: s,
              padding: { top: gy.before, bottom: gy.after, left: gx.before, right: gx.after },
              weights: kernel!,
              bias: biasRaw ?? new Float32Array(filters),
            },
            source: [name],
            pools: [],
            shape: [gy.out, gx.out, filters],
          };
        }
        kind = 'pre';
        shape = [...pending.shape];
        return;
      }
      case 'MaxPooling2D': {
        const w = window2d(name, cfg, shape, 'poolSize');
        if (kind === 'pre') {
          if (pending!.flatten !== undefined) refuse('cannot pool after a flatten');
          pending!.pools.push(w);
          pending!.source.push(name);
        } else if (kind === 'spikes' || encoding === 'binary') {
          out.push(orLayer(w, [name]));
        } else {
          refuse('max pooling of analog input is not a spiking operation; use binary input encoding or pool after a spiking layer');
        }
        shape = [...w.outputShape];
        return;
      }
      case 'AveragePooling2D': {
        if (kind === 'pre') refuse('average pooling between a linear layer and its spiking activation is not supported; pool after the spiking layer');
        average = { window: window2d(name, cfg, shape, 'poolSize'), flattened: false };
        shape = [...average.window.outputShape];
        return;
      }
      case 'Flatten': {
        if ((cfg.dataFormat ?? 'channelsLast') !== 'channelsLast') refuse('only channels-last (NHWC) flattening is supported');
        if (shape.length === 1) return;
        if (average !== undefined) average.flattened = true;
        else if (kind === 'pre') pending!.flatten = { name, inputShape: shape as unknown as Shape3 };
        else emitFlatten(name, shape as unknown as Shape3);
        shape = [sizeOf(shape)];
        return;
      }
      case 'SpikingBRelu':
      case 'SpikingSigmoid': {
        if (!isSpikingLayer(layer)) return refuse('not a spiking activation');
        if (kind !== 'pre') refuse('a spiking activation must follow a conv2d or dense layer');
        const sharpness = layer.sharpness;
        if (sharpness !== 1) refuse(`sharpness is ${sharpness}; only a fully sharpened network (every layer at 1) is a spiking network`);
        const p = pending!;
        const count = p.layer.type === 'dense' ? p.layer.units : p.layer.outputShape[2];
        const threshold = new Float32Array(count).fill(layer.threshold);
        out.push({ ...p.layer, source: [...p.source, name], threshold } as DenseLayer | Conv2dLayer);
        for (const w of p.pools) out.push(orLayer(w, [w.name]));
        if (p.flatten !== undefined) emitFlatten(p.flatten.name, p.flatten.inputShape);
        pending = undefined;
        kind = 'spikes';
        return;
      }
      case 'SoftmaxDecode': {
        if (kind !== 'spikes') refuse('must follow a spiking layer');
        key = (layer as SoftmaxDecode).key.map((row) => [...row]);
        return;
      }
      default:
        return refuse('has no spiking equivalent');
    }
  });

  if (kind === 'pre') throw new InputError(`layer ${pending!.layer.name}: needs a spiking activation after it`);
  if (key === undefined) throw new InputError(`model ${model.name}: the last layer must be SoftmaxDecode (the output key)`);
  const classNames = options.classNames ?? key.map((_, i) => String(i));
  const network: SpikingNetwork = {
    name: options.name ?? model.name,
    input: encoding === 'binary' ? { shape: imageShape, encoding, threshold: inputThreshold ?? 0.5 } : { shape: imageShape, encoding },
    layers: out,
    output: { key, classNames: [...classNames] },
  };
  validateNetwork(network, `model ${network.name}`);
  return network;
}

/** The `whetstone` block that `train` writes into run/model/model.json. */
export interface ModelMetadata {
  readonly key?: OutputKey;
  readonly class_names?: string[];
  readonly input_shape?: number[];
}

/** Reads the `whetstone` block of a model.json, or {} when there is none. */
export function readModelMetadata(modelDir: string): ModelMetadata {
  try {
    const json = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8')) as { whetstone?: ModelMetadata };
    return json.whetstone ?? {};
  } catch {
    return {};
  }
}

/**
 * Loads a saved model directory (run/model) and converts it; class names come from its
 * `whetstone` block, the name from the run directory. Initialises the tfjs backend if needed.
 */
export async function convertModelDir(modelDir: string, options: ConvertOptions = {}): Promise<SpikingNetwork> {
  const meta = readModelMetadata(modelDir);
  const model = await loadModel(modelDir);
  try {
    const runName = basename(dirname(resolve(modelDir)));
    return convertModel(model, { name: options.name ?? runName, classNames: options.classNames ?? meta.class_names });
  } finally {
    model.dispose();
  }
}
