/**
 * The event-driven simulator: discrete time, memoryless threshold neurons, neuron layer k fires at
 * step k. A sample's spikes travel layer by layer; because nothing carries over between steps,
 * running the layers in order for one sample is the same computation as stepping the clock.
 *
 * Only neurons that spiked propagate. Each layer's spikes are a bit-packed vector (32 neurons per
 * word); the next layer walks the set bits in ascending index order and, for each, adds that
 * neuron's outgoing weights into the receivers' accumulators — additions only, no multiplications
 * (except for an analog input, which is real-valued current into the first layer). The additions
 * run in a tiny WebAssembly SIMD kernel (kernel.ts) four lanes at a time; a JS kernel does the same
 * where WebAssembly SIMD is missing.
 *
 * Float semantics, chosen so that the simulator reproduces the tfjs model bit for bit on the wasm
 * backend: accumulators are float32, start at the bias, and receive the active inputs' weights in
 * ascending input index (for a convolution: kernel row, kernel column, input channel), each sum
 * rounded to float32. That is the order of XNNPACK's GEMM/IGEMM micro-kernels, which tfjs-backend-wasm
 * uses for Dense and Conv2D; a spike multiplies its weight by exactly 1, so each step is one float32
 * addition, and the pre-activation z — hence z ≥ θ — is identical. An analog input multiplies
 * first (rounded to float32) and then adds, as those kernels do (WebAssembly SIMD has no fused
 * multiply-add). Other backends (cpu, tfjs-node) sum in other orders: z may differ in the last bit,
 * so a neuron sitting exactly at its threshold may differ there (docs/snn-format.md).
 */
import { readout, type OutputKey } from '../model/key.js';
import { createKernel, type Kernel, type KernelChoice } from './kernel.js';
import { neuronCount, neuronLayers, sizeOf, type Conv2dLayer, type DenseLayer, type NeuronLayer, type OrPoolLayer, type SpikingNetwork } from './network.js';

/** Per-neuron-layer counters accumulated over every classified image. */
export interface LayerCounters {
  /** Spikes emitted by this layer. */
  spikes: number;
  /** Synaptic events into this layer: one per incoming spike per synapse it crosses. */
  events: number;
}

export interface SimulatorOptions {
  /** 'auto' (default): WebAssembly SIMD when the engine has it, else JS. Both give identical results. */
  readonly kernel?: KernelChoice;
}

/** The float32 value tfjs gives pixel byte b: fround(b/255) (data/batches.ts normalises the same way). */
export const PIXEL_VALUES: Float32Array = Float32Array.from({ length: 256 }, (_, b) => b / 255);

/** Pairs (dst, src) buffered before each kernel call: bounds the pair list's memory. */
const PAIR_CAPACITY = 2048;

const words = (bits: number) => (bits + 31) >>> 5;

/** Bump allocator over the kernel's memory: byte offsets, 16-byte aligned. */
class Layout {
  bytes = 0;
  take(n: number): number {
    const at = this.bytes;
    this.bytes += Math.ceil(n / 16) * 16;
    return at;
  }
}

interface Stage {
  readonly layer: NeuronLayer;
  /** Byte offset of the output spike words. */
  readonly out: number;
  readonly counters: LayerCounters;
  /** Runs the layer on the spikes at byte offset `input` (or the analog values at `analog`). */
  run(input: number): void;
}

/** What every stage needs to reach the shared memory and the kernel. */
interface Machine {
  kernel: Kernel;
  f32: Float32Array;
  i32: Int32Array;
  u32: Uint32Array;
  pairs: number;
  /** Float32 index of the analog input values, when the input is analog. */
  analog: number;
}

/** Iterates the set bits of `n` words at u32 index `at`, ascending. */
function forEachSpike(u32: Uint32Array, at: number, n: number, visit: (i: number) => void): number {
  let active = 0;
  for (let w = 0; w < n; w++) {
    let bits = u32[at + w]! | 0;
    while (bits !== 0) {
      const low = bits & -bits;
      bits ^= low;
      visit((w << 5) + 31 - Math.clz32(low));
      active++;
    }
  }
  return active;
}

/** A dense or conv layer: weights, bias map, threshold map, accumulators and output bits in kernel memory. */
function planNeurons(layout: Layout, layer: DenseLayer | Conv2dLayer) {
  const n = neuronCount(layer);
  const padded = words(n) * 32;
  return {
    n,
    padded,
    weights: layout.take(layer.weights.byteLength),
    bias: layout.take(padded * 4),
    thr: layout.take(padded * 4),
    acc: layout.take(padded * 4),
    out: layout.take(words(n) * 4),
  };
}

type Plan = ReturnType<typeof planNeurons>;

function writeNeurons(m: Machine, layer: DenseLayer | Conv2dLayer, p: Plan): void {
  m.f32.set(layer.weights, p.weights >> 2);
  const channels = layer.bias.length;
  for (let i = 0; i < p.padded; i++) {
    // Padding neurons (past n) have bias 0 and θ = +∞: they never fire.
    m.f32[(p.bias >> 2) + i] = i < p.n ? layer.bias[i % channels]! : 0;
    m.f32[(p.thr >> 2) + i] = i < p.n ? layer.threshold[i % channels]! : Number.POSITIVE_INFINITY;
  }
}

function denseStage(m: Machine, layer: DenseLayer, p: Plan, analogInput: boolean): Stage {
  const { units, inputSize } = layer;
  const counters: LayerCounters = { spikes: 0, events: 0 };
  const inWords = words(inputSize);
  const { f32, i32, u32, kernel } = m;
  const rowBytes = units * 4;
  return {
    layer,
    out: p.out,
    counters,
    run(input) {
      f32.copyWithin(p.acc >> 2, p.bias >> 2, (p.bias >> 2) + p.padded);
      let active = 0;
      if (analogInput) {
        const acc = p.acc >> 2;
        for (let i = 0; i < inputSize; i++) {
          const v = f32[m.analog + i]!;
          if (v === 0) continue;
          active++;
          const row = (p.weights >> 2) + i * units;
          for (let j = 0; j < units; j++) f32[acc + j]! += Math.fround(f32[row + j]! * v);
        }
      } else {
        let count = 0;
        let q = m.pairs >> 2;
        active = forEachSpike(u32, input >> 2, inWords, (i) => {
          i32[q++] = p.acc;
          i32[q++] = p.weights + i * rowBytes;
          if (++count === PAIR_CAPACITY) {
            kernel.add(m.pairs, count, units);
            count = 0;
            q = m.pairs >> 2;
          }
        });
        if (count > 0) kernel.add(m.pairs, count, units);
      }
      counters.events += active * units;
      counters.spikes += kernel.fire(p.acc, p.thr, words(p.n), p.out);
    },
  };
}

/** Range of output positions o (0 ≤ o < out) whose window [o·s − before, o·s − before + k) holds p. */
function windowsHolding(p: number, k: number, s: number, before: number, out: number): [first: number, last: number] {
  const q = p + before;
  return [Math.max(0, Math.ceil((q - k + 1) / s)), Math.min(out - 1, Math.floor(q / s))];
}

function windowTables(inH: number, inW: number, k: readonly [number, number], s: readonly [number, number], top: number, left: number, outH: number, outW: number) {
  const rows = new Int32Array(2 * inH);
  const cols = new Int32Array(2 * inW);
  for (let y = 0; y < inH; y++) [rows[2 * y], rows[2 * y + 1]] = windowsHolding(y, k[0], s[0], top, outH);
  for (let x = 0; x < inW; x++) [cols[2 * x], cols[2 * x + 1]] = windowsHolding(x, k[1], s[1], left, outW);
  return { rows, cols };
}

function convStage(m: Machine, layer: Conv2dLayer, p: Plan, analogInput: boolean): Stage {
  const [inH, inW, inC] = layer.inputShape;
  const [outH, outW, outC] = layer.outputShape;
  const [kh, kw] = layer.kernel;
  const [sh, sw] = layer.strides;
  const { top, left } = layer.padding;
  const counters: LayerCounters = { spikes: 0, events: 0 };
  const inSize = inH * inW * inC;
  const inWords = words(inSize);
  const { rows, cols } = windowTables(inH, inW, layer.kernel, layer.strides, top, left, outH, outW);
  const { f32, i32, u32, kernel } = m;
  const vecBytes = outC * 4;
  return {
    layer,
    out: p.out,
    counters,
    run(input) {
      f32.copyWithin(p.acc >> 2, p.bias >> 2, (p.bias >> 2) + p.padded);
      let events = 0;
      let count = 0;
      let q = m.pairs >> 2;
      // Adds input (y, x, ci)'s weights (× v when analog) into every output window holding it.
      const scatter = (i: number, v: number) => {
        const ci = i % inC;
        const pos = (i - ci) / inC;
        const x = pos % inW;
        const y = (pos - x) / inW;
        const ox0 = cols[2 * x]!;
        const ox1 = cols[2 * x + 1]!;
        for (let oy = rows[2 * y]!, oy1 = rows[2 * y + 1]!; oy <= oy1; oy++) {
          const ky = y + top - oy * sh;
          for (let ox = ox0; ox <= ox1; ox++) {
            const kx = x + left - ox * sw;
            const src = p.weights + ((ky * kw + kx) * inC + ci) * vecBytes;
            const dst = p.acc + (oy * outW + ox) * vecBytes;
            events += outC;
            if (analogInput) {
              for (let f = 0, d = dst >> 2, s = src >> 2; f < outC; f++) f32[d + f]! += Math.fround(f32[s + f]! * v);
              continue;
            }
            i32[q++] = dst;
            i32[q++] = src;
            if (++count === PAIR_CAPACITY) {
              kernel.add(m.pairs, count, outC);
              count = 0;
              q = m.pairs >> 2;
            }
          }
        }
      };
      if (analogInput) {
        for (let i = 0; i < inSize; i++) {
          const v = f32[m.analog + i]!;
          if (v !== 0) scatter(i, v);
        }
      } else {
        forEachSpike(u32, input >> 2, inWords, (i) => scatter(i, 1));
        if (count > 0) kernel.add(m.pairs, count, outC);
      }
      counters.events += events;
      counters.spikes += kernel.fire(p.acc, p.thr, words(p.n), p.out);
    },
  };
}

function orPoolStage(m: Machine, layer: OrPoolLayer, out: number): Stage {
  const [inH, inW, c] = layer.inputShape;
  const [outH, outW] = layer.outputShape;
  const counters: LayerCounters = { spikes: 0, events: 0 };
  const inWords = words(inH * inW * c);
  const outWords = words(outH * outW * c);
  const { rows, cols } = windowTables(inH, inW, layer.pool, layer.strides, layer.padding.top, layer.padding.left, outH, outW);
  const { u32 } = m;
  const o = out >> 2;
  return {
    layer,
    out,
    counters,
    run(input) {
      u32.fill(0, o, o + outWords);
      let events = 0;
      forEachSpike(u32, input >> 2, inWords, (i) => {
        const ch = i % c;
        const pos = (i - ch) / c;
        const x = pos % inW;
        const y = (pos - x) / inW;
        for (let oy = rows[2 * y]!; oy <= rows[2 * y + 1]!; oy++) {
          for (let ox = cols[2 * x]!; ox <= cols[2 * x + 1]!; ox++) {
            const bit = (oy * outW + ox) * c + ch;
            u32[o + (bit >>> 5)]! |= 1 << (bit & 31);
            events++;
          }
        }
      });
      counters.events += events;
      let spikes = 0;
      for (let k = o; k < o + outWords; k++) spikes += popcount(u32[k]!);
      counters.spikes += spikes;
    },
  };
}

export function popcount(v: number): number {
  let x = v - ((v >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Runs a SpikingNetwork on images, one at a time, accumulating per-layer counters. */
export class SpikingSimulator {
  readonly network: SpikingNetwork;
  /** Neuron layers in firing order (step k + 1 for index k). */
  readonly layers: readonly NeuronLayer[];
  /** Which kernel runs the additions: 'wasm-simd' or 'js'. */
  readonly kernel: Kernel['name'];
  /** Bytes of memory the simulator allocated: a copy of the weights plus working buffers. */
  readonly memoryBytes: number;
  /** Of which the weights (float32). */
  readonly weightBytes: number;
  private readonly machine: Machine;
  private readonly stages: Stage[];
  private readonly pixels: number;
  /** Byte offset of the input spike words. */
  private readonly inputBits: number;
  private readonly analogInput: boolean;
  /** Binary encoding: 1 where a pixel byte spikes. */
  private readonly spikesFor: Uint8Array;
  private readonly outputSpikes: Uint8Array;
  private readonly key: OutputKey;
  /** Images classified since construction or the last `resetCounters`. */
  images = 0;
  /** Input spikes (binary) or non-zero input values (analog) seen. */
  inputActive = 0;
  /** Images whose readout was a tie between classes (resolved to the lowest index). */
  ties = 0;

  constructor(network: SpikingNetwork, options: SimulatorOptions = {}) {
    this.network = network;
    this.layers = neuronLayers(network);
    this.analogInput = network.input.encoding === 'analog';
    this.pixels = sizeOf(network.input.shape);

    // Lay out the memory: input, then each layer, then the pair list.
    const layout = new Layout();
    const inputBits = layout.take(words(this.pixels) * 4);
    const analog = this.analogInput ? layout.take(this.pixels * 4) : 0;
    const plans = this.layers.map((layer) => (layer.type === 'or_pool2d' ? { out: layout.take(words(neuronCount(layer)) * 4) } : planNeurons(layout, layer)));
    const pairs = layout.take(PAIR_CAPACITY * 8);
    const kernel = createKernel(layout.bytes, options.kernel);
    this.machine = {
      kernel,
      f32: new Float32Array(kernel.buffer),
      i32: new Int32Array(kernel.buffer),
      u32: new Uint32Array(kernel.buffer),
      pairs,
      analog: analog >> 2,
    };
    this.kernel = kernel.name;
    this.memoryBytes = kernel.buffer.byteLength;
    this.inputBits = inputBits;
    let weightBytes = 0;
    this.stages = this.layers.map((layer, k) => {
      const plan = plans[k]!;
      const analogHere = this.analogInput && k === 0;
      if (layer.type === 'or_pool2d') {
        if (analogHere) throw new Error('an OR pool cannot take analog input'); // refused at conversion and load
        return orPoolStage(this.machine, layer, plan.out);
      }
      const p = plan as Plan;
      writeNeurons(this.machine, layer, p);
      weightBytes += layer.weights.byteLength;
      return layer.type === 'dense' ? denseStage(this.machine, layer, p, analogHere) : convStage(this.machine, layer, p, analogHere);
    });
    this.weightBytes = weightBytes;
    const theta = Math.fround(network.input.threshold ?? 0.5);
    this.spikesFor = Uint8Array.from(PIXEL_VALUES, (v) => (v >= theta ? 1 : 0));
    const last = this.layers.at(-1);
    this.outputSpikes = new Uint8Array(last === undefined ? 0 : neuronCount(last));
    this.key = network.output.key;
  }

  /** Counters of each neuron layer (same order as `layers`). */
  get counters(): readonly LayerCounters[] {
    return this.stages.map((s) => s.counters);
  }

  resetCounters(): void {
    this.images = 0;
    this.inputActive = 0;
    this.ties = 0;
    for (const s of this.stages) {
      s.counters.spikes = 0;
      s.counters.events = 0;
    }
  }

  /** Working memory beyond the copy of the weights: biases, thresholds, accumulators, spike vectors, pair list. */
  get workingBytes(): number {
    return this.memoryBytes - this.weightBytes;
  }

  /**
   * Classifies one image: `images[offset … offset + h·w·c)` as bytes 0..255 in HWC order.
   * Returns the class (readout of DESIGN.md, ties to the lowest index).
   */
  classify(images: Uint8Array, offset = 0): number {
    const n = this.pixels;
    const { f32, u32 } = this.machine;
    let active = 0;
    if (this.analogInput) {
      const a = this.machine.analog;
      for (let p = 0; p < n; p++) {
        const b = images[offset + p]!;
        f32[a + p] = PIXEL_VALUES[b]!;
        if (b !== 0) active++;
      }
    } else {
      const bits = this.inputBits >> 2;
      u32.fill(0, bits, bits + words(n));
      const table = this.spikesFor;
      for (let p = 0; p < n; p++) {
        if (table[images[offset + p]!] === 1) {
          u32[bits + (p >>> 5)]! |= 1 << (p & 31);
          active++;
        }
      }
    }
    this.inputActive += active;
    let spikes = this.inputBits;
    for (const stage of this.stages) {
      stage.run(spikes);
      spikes = stage.out;
    }
    this.images++;
    const outSpikes = this.outputSpikes;
    const at = spikes >> 2;
    for (let j = 0; j < outSpikes.length; j++) outSpikes[j] = (u32[at + (j >>> 5)]! >>> (j & 31)) & 1;
    const { predicted, tied } = readout(this.key, outSpikes);
    if (tied) this.ties++;
    return predicted;
  }

  /** Spikes of neuron layer k (0-based) for the last classified image, as 0/1 per neuron. */
  layerSpikes(k: number): Uint8Array {
    const stage = this.stages[k];
    if (stage === undefined) throw new RangeError(`no neuron layer ${k}`);
    return unpackBits(this.machine.u32.subarray(stage.out >> 2), neuronCount(stage.layer));
  }

  /** The input as the first layer saw it, for the last image: spikes (binary) or values (analog). */
  inputSpikes(): Uint8Array | Float32Array {
    const { f32, u32, analog } = this.machine;
    return this.analogInput ? f32.slice(analog, analog + this.pixels) : unpackBits(u32.subarray(this.inputBits >> 2), this.pixels);
  }
}

export function unpackBits(bits: Uint32Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let j = 0; j < n; j++) out[j] = (bits[j >>> 5]! >>> (j & 31)) & 1;
  return out;
}

/** Images in HWC bytes, `count` of them back to back (a DatasetSplit's `images`). */
export interface ImageBatch {
  readonly images: Uint8Array;
  readonly count: number;
}

/** Predicted class of each image. */
export function classifyAll(simulator: SpikingSimulator, batch: ImageBatch): Uint8Array {
  const n = sizeOf(simulator.network.input.shape);
  if (batch.images.length < batch.count * n) {
    throw new RangeError(`classifyAll: ${batch.images.length} bytes cannot hold ${batch.count} images of ${n} pixels`);
  }
  const out = new Uint8Array(batch.count);
  for (let i = 0; i < batch.count; i++) out[i] = simulator.classify(batch.images, i * n);
  return out;
}
