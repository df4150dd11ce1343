/**
 * What every exporter needs to know about the artifact's layout: the shape each neuron layer
 * sees and emits, the HWC → CHW permutation (the artifact stores maps HWC as tfjs does; NIR,
 * PyTorch, Lava and PyNN think in CHW), and weights rearranged into (out, in) and OIHW.
 */
import { InputError } from '../errors.js';
import { encodeNpy } from './npy.js';
import { sizeOf, windowOutputSize, type NeuronLayer, type Padding2d, type Pair, type Shape3, type SpikingNetwork } from '../snn/network.js';

/** A neuron layer with what flows in and out of it: maps are HWC shapes, vectors are [n]. */
export interface PlannedLayer {
  readonly layer: NeuronLayer;
  /** 0-based position among the neuron layers (fires at step index + 1). */
  readonly index: number;
  readonly inShape: readonly number[];
  readonly outShape: readonly number[];
  /** The map a flatten turned into this layer's input vector, if one did. */
  readonly flattenedFrom: Shape3 | null;
}

export function planLayers(network: SpikingNetwork): PlannedLayer[] {
  const planned: PlannedLayer[] = [];
  let shape: readonly number[] = network.input.shape;
  let flattenedFrom: Shape3 | null = null;
  for (const layer of network.layers) {
    if (layer.type === 'flatten') {
      flattenedFrom = layer.inputShape;
      shape = [layer.inputShape[0] * layer.inputShape[1] * layer.inputShape[2]];
      continue;
    }
    const outShape = layer.type === 'dense' ? [layer.units] : layer.outputShape;
    planned.push({ layer, index: planned.length, inShape: shape, outShape, flattenedFrom: layer.type === 'dense' ? flattenedFrom ?? (shape.length === 3 ? (shape as Shape3) : null) : null });
    shape = outShape;
    flattenedFrom = null;
  }
  return planned;
}

/** CHW position of HWC flat index i in an [h, w, c] map. */
export function hwcToChw(shape: Shape3, i: number): number {
  const [h, w, c] = shape;
  const ch = i % c;
  const pos = (i - ch) / c;
  return ch * h * w + pos;
}

/** Neuron order used by the exports: CHW for maps, as is for vectors. Returns HWC index → export index. */
export function exportOrder(shape: readonly number[]): (i: number) => number {
  return shape.length === 3 ? (i) => hwcToChw(shape as Shape3, i) : (i) => i;
}

/** Rearranges an HWC map (values per HWC index) into CHW order. */
export function toChw<T extends Float32Array | Uint8Array>(values: T, shape: readonly number[]): T {
  if (shape.length !== 3) return values;
  const out = new (values.constructor as { new (n: number): T })(values.length);
  const order = exportOrder(shape);
  for (let i = 0; i < values.length; i++) out[order(i)] = values[i]!;
  return out;
}

/** Dense weights as (out, in), the input index in export order (CHW when a map was flattened). */
export function denseOutIn(p: PlannedLayer): Float32Array {
  if (p.layer.type !== 'dense') throw new TypeError('denseOutIn: not a dense layer');
  const { inputSize, units, weights } = p.layer;
  const order = p.flattenedFrom === null ? (i: number) => i : exportOrder(p.flattenedFrom);
  const out = new Float32Array(units * inputSize);
  for (let i = 0; i < inputSize; i++) {
    const col = order(i);
    for (let j = 0; j < units; j++) out[j * inputSize + col] = weights[i * units + j]!;
  }
  return out;
}

/** Conv weights HWIO → OIHW (PyTorch: out channels, in channels, kernel rows, kernel columns). */
export function convOihw(kh: number, kw: number, inC: number, outC: number, hwio: Float32Array): Float32Array {
  const out = new Float32Array(hwio.length);
  for (let ky = 0; ky < kh; ky++) {
    for (let kx = 0; kx < kw; kx++) {
      for (let ci = 0; ci < inC; ci++) {
        for (let co = 0; co < outC; co++) out[((co * inC + ci) * kh + ky) * kw + kx] = hwio[((ky * kw + kx) * inC + ci) * outC + co]!;
      }
    }
  }
  return out;
}

/**
 * The per-axis padding [rows, columns] of a window operation for targets that pad both sides
 * equally (PyTorch convention: NIR, Lava). Exact when padding `before` on both sides yields the
 * same windows — the same output size, since windows start at o·s − before either way; tfjs's
 * 'same' padding puts the odd pixel after, which shifts windows for even kernels or stride 2.
 */
export function symmetricPadding(target: string, name: string, inShape: Shape3, outShape: Shape3, window: Pair, strides: Pair, padding: Padding2d): [number, number] {
  const axes: [string, number, number, number, number, number, number][] = [
    ['rows', inShape[0], outShape[0], window[0], strides[0], padding.top, padding.bottom],
    ['columns', inShape[1], outShape[1], window[1], strides[1], padding.left, padding.right],
  ];
  const result: number[] = [];
  for (const [axis, n, out, k, s, before, after] of axes) {
    if (windowOutputSize(n, k, s, before, before) !== out) {
      throw new InputError(
        `layer ${name}: padding ${before} before and ${after} after along ${axis} cannot be represented by ${target}, which pads both sides equally (the windows would shift); use 'valid' padding, or odd kernels with stride 1`,
      );
    }
    result.push(before);
  }
  return [result[0]!, result[1]!];
}

/** The largest float32 below x: for float32 z, z ≥ x ⟺ z > nextDown32(x) (targets that fire on '>'). */
export function nextDown32(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer);
  if (x === 0) {
    u[0] = 0x80000001; // −smallest subnormal
  } else if (x > 0) {
    u[0] = u[0]! - 1;
  } else {
    u[0] = u[0]! + 1;
  }
  return f[0]!;
}

/** Per-neuron thresholds and biases of a neuron layer, in export (CHW) order. */
export function perNeuron(p: PlannedLayer): { bias: Float64Array; threshold: Float64Array } {
  const l = p.layer;
  const n = p.outShape.reduce((a, b) => a * b, 1);
  const bias = new Float64Array(n);
  const threshold = new Float64Array(n);
  const order = exportOrder(p.outShape);
  for (let i = 0; i < n; i++) {
    const o = order(i);
    if (l.type === 'or_pool2d') {
      bias[o] = 0;
      threshold[o] = 0.5;
    } else {
      const ch = i % l.bias.length;
      bias[o] = l.bias[ch]!;
      threshold[o] = l.threshold[ch]!;
    }
  }
  return { bias, threshold };
}

/**
 * Every synapse of a neuron layer as (pre, post, weight) in export order; convolutions and OR
 * pools expanded over their windows. Zero weights make no synapse.
 */
export function connectionList(p: PlannedLayer): { pre: Int32Array; post: Int32Array; weight: Float64Array } {
  const pre: number[] = [];
  const post: number[] = [];
  const weight: number[] = [];
  const l = p.layer;
  if (l.type === 'dense') {
    const inOrder = p.flattenedFrom === null ? (i: number) => i : exportOrder(p.flattenedFrom);
    for (let i = 0; i < l.inputSize; i++) {
      for (let j = 0; j < l.units; j++) {
        const w = l.weights[i * l.units + j]!;
        if (w === 0) continue;
        pre.push(inOrder(i));
        post.push(j);
        weight.push(w);
      }
    }
  } else {
    const [inH, inW, inC] = l.inputShape;
    const [outH, outW, outC] = l.outputShape;
    const [kh, kw] = l.type === 'conv2d' ? l.kernel : l.pool;
    const [sh, sw] = l.strides;
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        for (let ky = 0; ky < kh; ky++) {
          const y = oy * sh - l.padding.top + ky;
          if (y < 0 || y >= inH) continue;
          for (let kx = 0; kx < kw; kx++) {
            const x = ox * sw - l.padding.left + kx;
            if (x < 0 || x >= inW) continue;
            if (l.type === 'conv2d') {
              for (let ci = 0; ci < inC; ci++) {
                for (let co = 0; co < outC; co++) {
                  const w = l.weights[((ky * kw + kx) * inC + ci) * outC + co]!;
                  if (w === 0) continue;
                  pre.push((ci * inH + y) * inW + x);
                  post.push((co * outH + oy) * outW + ox);
                  weight.push(w);
                }
              }
            } else {
              for (let c = 0; c < inC; c++) {
                pre.push((c * inH + y) * inW + x);
                post.push((c * outH + oy) * outW + ox);
                weight.push(1);
              }
            }
          }
        }
      }
    }
  }
  return { pre: Int32Array.from(pre), post: Int32Array.from(post), weight: Float64Array.from(weight) };
}

/**
 * The sample files a script export embeds: `inputs.npy` (the first `count` images as binary input
 * spikes, CHW, one row per image — the network's own encoder: spike iff float32(b/255) ≥ θ),
 * `labels.npy`, `simulator_predictions.npy` (what Whetstone's simulator decided, to compare with)
 * and `key.npy` (the readout key). `put` writes one file of the export.
 */
export function putSampleFiles(
  put: (name: string, bytes: Uint8Array) => void,
  network: SpikingNetwork,
  samples: { readonly images: Uint8Array; readonly labels: Uint8Array },
  predictions: Uint8Array,
  count: number,
): void {
  const pixels = sizeOf(network.input.shape);
  const theta = Math.fround(network.input.threshold ?? 0.5);
  const inputs = new Uint8Array(count * pixels);
  for (let i = 0; i < count; i++) {
    const spikes = Uint8Array.from(samples.images.subarray(i * pixels, (i + 1) * pixels), (b) => (Math.fround(b / 255) >= theta ? 1 : 0));
    inputs.set(toChw(spikes, network.input.shape), i * pixels);
  }
  put('inputs.npy', encodeNpy({ dtype: '|u1', data: inputs }, [count, pixels]));
  put('labels.npy', encodeNpy({ dtype: '|u1', data: samples.labels.slice(0, count) }, [count]));
  put('simulator_predictions.npy', encodeNpy({ dtype: '|u1', data: predictions.slice(0, count) }, [count]));
  const key = network.output.key;
  put('key.npy', encodeNpy({ dtype: '|u1', data: Uint8Array.from(key.flat()) }, [key.length, key[0]!.length]));
}

/**
 * Lines of a generated script's main(): the sample files `putSampleFiles` writes, loaded with the
 * script's `load` helper, and `n`, the number of samples to run (`--samples`, default all).
 */
export const PY_LOAD_SAMPLES = `    inputs = load("inputs.npy")
    labels = load("labels.npy").astype(int)
    expected = load("simulator_predictions.npy").astype(int)
    key = load("key.npy").astype(int)
    n = len(inputs) if args.samples is None else min(args.samples, len(inputs))
`;
