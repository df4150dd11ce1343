/**
 * Hand-built SpikingNetworks and a naive reference simulator, for tests that must not load tfjs.
 * Weights are multiples of 1/64 (dyadic), so every float sum is exact in any order and the
 * reference (straight loops over all inputs) must agree with the event-driven simulator bit for bit.
 */
import { decodeSpikes, type OutputKey } from '../../src/model/key.js';
import { windowGeometry, type Conv2dLayer, type DenseLayer, type NeuronLayer, type OrPoolLayer, type Shape3, type SnnLayer, type SpikingNetwork } from '../../src/snn/network.js';
import { PIXEL_VALUES } from '../../src/snn/simulator.js';
import { SeededRandom } from '../../src/util/random.js';

export function dyadic(rng: SeededRandom, n: number, scale = 1, offset = 0): Float32Array {
  return Float32Array.from({ length: n }, () => (Math.round((rng.next() - 0.5) * 64 * scale) + offset * 64) / 64);
}

export function conv(
  rng: SeededRandom,
  name: string,
  inputShape: Shape3,
  filters: number,
  kernel: [number, number],
  strides: [number, number],
  mode: 'same' | 'valid',
  threshold = 0.5,
): Conv2dLayer {
  const gy = windowGeometry(inputShape[0], kernel[0], strides[0], mode);
  const gx = windowGeometry(inputShape[1], kernel[1], strides[1], mode);
  return {
    type: 'conv2d',
    name,
    source: [name],
    inputShape,
    outputShape: [gy.out, gx.out, filters],
    kernel,
    strides,
    padding: { top: gy.before, bottom: gy.after, left: gx.before, right: gx.after },
    weights: dyadic(rng, kernel[0] * kernel[1] * inputShape[2] * filters),
    bias: dyadic(rng, filters, 0.5),
    threshold: new Float32Array(filters).fill(threshold),
  };
}

export function orPool(name: string, inputShape: Shape3, pool: [number, number], strides: [number, number], mode: 'same' | 'valid'): OrPoolLayer {
  const gy = windowGeometry(inputShape[0], pool[0], strides[0], mode);
  const gx = windowGeometry(inputShape[1], pool[1], strides[1], mode);
  return {
    type: 'or_pool2d',
    name,
    source: [name],
    inputShape,
    outputShape: [gy.out, gx.out, inputShape[2]],
    pool,
    strides,
    padding: { top: gy.before, bottom: gy.after, left: gx.before, right: gx.after },
  };
}

export function dense(rng: SeededRandom, name: string, inputSize: number, units: number, threshold = 0.5): DenseLayer {
  return {
    type: 'dense',
    name,
    source: [name],
    inputSize,
    units,
    weights: dyadic(rng, inputSize * units, 0.5),
    bias: dyadic(rng, units, 0.5),
    threshold: new Float32Array(units).fill(threshold),
  };
}

export function nHotKey(classes: number, perClass: number): OutputKey {
  return Array.from({ length: classes }, (_, c) => Array.from({ length: classes * perClass }, (_, j) => (Math.floor(j / perClass) === c ? 1 : 0)));
}

/**
 * A small CNN exercising strides, asymmetric 'same' padding, an overlapping OR pool and a flatten:
 * 9×7×2 input → conv 3×2 s2 same (5 filters) → OR pool 3×3 s2 same → conv 2×2 valid → flatten → dense 12.
 */
export function smallCnn(seed: number, encoding: 'binary' | 'analog' = 'binary'): SpikingNetwork {
  const rng = new SeededRandom(seed);
  const c1 = conv(rng, 'c1', [9, 7, 2], 5, [3, 2], [2, 2], 'same');
  const p1 = orPool('p1', c1.outputShape, [3, 3], [2, 2], 'same');
  const c2 = conv(rng, 'c2', p1.outputShape, 3, [2, 2], [1, 1], 'valid', 0);
  const flat = c2.outputShape[0] * c2.outputShape[1] * c2.outputShape[2];
  const d = dense(rng, 'd', flat, 12);
  const layers: SnnLayer[] = [c1, p1, c2, { type: 'flatten', name: 'f', inputShape: c2.outputShape, order: 'hwc' }, d];
  return {
    name: 'small-cnn',
    input: encoding === 'binary' ? { shape: [9, 7, 2], encoding, threshold: 0.4 } : { shape: [9, 7, 2], encoding },
    layers,
    output: { key: nHotKey(4, 3), classNames: ['a', 'b', 'c', 'd'] },
  };
}

export function randomImages(seed: number, count: number, pixels: number, density = 0.4): Uint8Array {
  const rng = new SeededRandom(seed);
  return Uint8Array.from({ length: count * pixels }, () => (rng.next() < density ? rng.int(256) : 0));
}

/** The obvious, slow simulator: every neuron sums every input. Returns each neuron layer's spikes. */
export function referenceSpikes(network: SpikingNetwork, pixels: Uint8Array): number[][] {
  const theta = Math.fround(network.input.threshold ?? 0.5);
  let x: number[] = Array.from(pixels, (b) => (network.input.encoding === 'binary' ? (PIXEL_VALUES[b]! >= theta ? 1 : 0) : PIXEL_VALUES[b]!));
  const all: number[][] = [];
  for (const layer of network.layers) {
    if (layer.type === 'flatten') continue;
    x = referenceLayer(layer, x);
    all.push(x);
  }
  return all;
}

function referenceLayer(layer: NeuronLayer, x: number[]): number[] {
  if (layer.type === 'dense') {
    return Array.from({ length: layer.units }, (_, j) => {
      let z = layer.bias[j]!;
      for (let i = 0; i < layer.inputSize; i++) z += layer.weights[i * layer.units + j]! * x[i]!;
      return Math.fround(z) >= layer.threshold[j]! ? 1 : 0;
    });
  }
  const [inH, inW, inC] = layer.inputShape;
  const [outH, outW, outC] = layer.outputShape;
  const [kh, kw] = layer.type === 'conv2d' ? layer.kernel : layer.pool;
  const out: number[] = [];
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      for (let f = 0; f < outC; f++) {
        let z = layer.type === 'conv2d' ? layer.bias[f]! : 0;
        let any = 0;
        for (let ky = 0; ky < kh; ky++) {
          for (let kx = 0; kx < kw; kx++) {
            const y = oy * layer.strides[0] - layer.padding.top + ky;
            const xx = ox * layer.strides[1] - layer.padding.left + kx;
            if (y < 0 || y >= inH || xx < 0 || xx >= inW) continue;
            if (layer.type === 'conv2d') {
              for (let c = 0; c < inC; c++) z += layer.weights[((ky * kw + kx) * inC + c) * outC + f]! * x[(y * inW + xx) * inC + c]!;
            } else {
              any = Math.max(any, x[(y * inW + xx) * inC + f]!);
            }
          }
        }
        out.push(layer.type === 'conv2d' ? (Math.fround(z) >= layer.threshold[f]! ? 1 : 0) : any);
      }
    }
  }
  return out;
}

export function referenceClass(network: SpikingNetwork, pixels: Uint8Array): number {
  return decodeSpikes(network.output.key, referenceSpikes(network, pixels).at(-1)!);
}
