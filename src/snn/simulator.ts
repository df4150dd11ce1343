/**
 * The event-driven simulator: discrete time, memoryless threshold neurons, neuron layer k fires at
 * step k. A sample's spikes travel layer by layer; because nothing carries over between steps,
 * running the layers in order for one sample is the same computation as stepping the clock.
 *
 * Only neurons that spiked propagate. Each layer's spikes are a bit-packed vector (Uint32 words);
 * the next layer walks the set bits in ascending index order and, for each, adds that neuron's
 * outgoing weights into the receivers' accumulators — additions only, no multiplications (except
 * for an analog input, which is real-valued current into the first layer).
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
import { decodeSpikes } from '../model/key.js';
import { neuronCount, neuronLayers, sizeOf, type Conv2dLayer, type DenseLayer, type NeuronLayer, type OrPoolLayer, type SpikingNetwork } from './network.js';

/** Per-neuron-layer counters accumulated over every classified image. */
export interface LayerCounters {
  /** Spikes emitted by this layer. */
  spikes: number;
  /** Synaptic events into this layer: one per incoming spike per synapse it crosses. */
  events: number;
}

interface Stage {
  readonly layer: NeuronLayer;
  /** Output spikes, bit-packed. */
  readonly out: Uint32Array;
  readonly counters: LayerCounters;
  run(input: Uint32Array, analog: Float32Array | undefined): void;
}

const words = (bits: number) => (bits + 31) >>> 5;

/** Sets output bits where acc[i] ≥ θ; returns the count. */
function fire(acc: Float32Array, threshold: Float32Array, channels: number, out: Uint32Array): number {
  out.fill(0);
  let count = 0;
  if (channels === acc.length) {
    for (let i = 0; i < acc.length; i++) {
      if (acc[i]! >= threshold[i]!) {
        out[i >>> 5]! |= 1 << (i & 31);
        count++;
      }
    }
    return count;
  }
  for (let base = 0; base < acc.length; base += channels) {
    for (let f = 0; f < channels; f++) {
      const i = base + f;
      if (acc[i]! >= threshold[f]!) {
        out[i >>> 5]! |= 1 << (i & 31);
        count++;
      }
    }
  }
  return count;
}

/** Fills `acc` with the per-channel bias repeated over positions (doubling copies). */
function fillBias(acc: Float32Array, bias: Float32Array): void {
  const c = bias.length;
  if (c === acc.length) {
    acc.set(bias);
    return;
  }
  acc.set(bias, 0);
  let filled = c;
  while (filled < acc.length) {
    const n = Math.min(filled, acc.length - filled);
    acc.copyWithin(filled, 0, n);
    filled += n;
  }
}

function denseStage(layer: DenseLayer, analogInput: boolean): Stage {
  const { units, weights, bias, threshold, inputSize } = layer;
  const acc = new Float32Array(units);
  const out = new Uint32Array(words(units));
  const counters: LayerCounters = { spikes: 0, events: 0 };
  const inWords = words(inputSize);
  return {
    layer,
    out,
    counters,
    run(input, analog) {
      acc.set(bias);
      let active = 0;
      if (analogInput) {
        const x = analog!;
        for (let i = 0; i < inputSize; i++) {
          const v = x[i]!;
          if (v === 0) continue;
          active++;
          const row = i * units;
          for (let j = 0; j < units; j++) acc[j]! += Math.fround(weights[row + j]! * v);
        }
      } else {
        for (let w = 0; w < inWords; w++) {
          let bits = input[w]! | 0;
          while (bits !== 0) {
            const low = bits & -bits;
            bits ^= low;
            const row = ((w << 5) + 31 - Math.clz32(low)) * units;
            active++;
            for (let j = 0; j < units; j++) acc[j]! += weights[row + j]!;
          }
        }
      }
      counters.events += active * units;
      counters.spikes += fire(acc, threshold, units, out);
    },
  };
}

/** Range of output positions o (0 ≤ o < out) whose window [o·s − before, o·s − before + k) holds p. */
function windowsHolding(p: number, k: number, s: number, before: number, out: number): [first: number, last: number] {
  const q = p + before;
  const first = Math.max(0, Math.ceil((q - k + 1) / s));
  const last = Math.min(out - 1, Math.floor(q / s));
  return [first, last];
}

function convStage(layer: Conv2dLayer, analogInput: boolean): Stage {
  const [inH, inW, inC] = layer.inputShape;
  const [outH, outW, outC] = layer.outputShape;
  const [kh, kw] = layer.kernel;
  const [sh, sw] = layer.strides;
  const { top, left } = layer.padding;
  const { weights, bias, threshold } = layer;
  const acc = new Float32Array(outH * outW * outC);
  const out = new Uint32Array(words(acc.length));
  const counters: LayerCounters = { spikes: 0, events: 0 };
  const inSize = inH * inW * inC;
  const inWords = words(inSize);
  // Window ranges per input row and column, computed once (small: inH + inW pairs).
  const rows = new Int32Array(2 * inH);
  const cols = new Int32Array(2 * inW);
  for (let y = 0; y < inH; y++) [rows[2 * y], rows[2 * y + 1]] = windowsHolding(y, kh, sh, top, outH);
  for (let x = 0; x < inW; x++) [cols[2 * x], cols[2 * x + 1]] = windowsHolding(x, kw, sw, left, outW);

  let events = 0;
  // Adds input (y, x, ci)'s weights (scaled by v when analog) into every output window holding it.
  const scatter = (i: number, v: number) => {
    const ci = i % inC;
    const pos = (i - ci) / inC;
    const x = pos % inW;
    const y = (pos - x) / inW;
    const oy0 = rows[2 * y]!;
    const oy1 = rows[2 * y + 1]!;
    const ox0 = cols[2 * x]!;
    const ox1 = cols[2 * x + 1]!;
    for (let oy = oy0; oy <= oy1; oy++) {
      const ky = y + top - oy * sh;
      for (let ox = ox0; ox <= ox1; ox++) {
        const kx = x + left - ox * sw;
        const wBase = ((ky * kw + kx) * inC + ci) * outC;
        const aBase = (oy * outW + ox) * outC;
        if (v === 1) for (let f = 0; f < outC; f++) acc[aBase + f]! += weights[wBase + f]!;
        else for (let f = 0; f < outC; f++) acc[aBase + f]! += Math.fround(weights[wBase + f]! * v);
        events += outC;
      }
    }
  };

  return {
    layer,
    out,
    counters,
    run(input, analog) {
      fillBias(acc, bias);
      events = 0;
      if (analogInput) {
        const xs = analog!;
        for (let i = 0; i < inSize; i++) {
          const v = xs[i]!;
          if (v !== 0) scatter(i, v);
        }
      } else {
        for (let w = 0; w < inWords; w++) {
          let bits = input[w]! | 0;
          while (bits !== 0) {
            const low = bits & -bits;
            bits ^= low;
            scatter((w << 5) + 31 - Math.clz32(low), 1);
          }
        }
      }
      counters.events += events;
      counters.spikes += fire(acc, threshold, outC, out);
    },
  };
}

function orPoolStage(layer: OrPoolLayer): Stage {
  const [inH, inW, c] = layer.inputShape;
  const [outH, outW] = layer.outputShape;
  const [ph, pw] = layer.pool;
  const [sh, sw] = layer.strides;
  const out = new Uint32Array(words(outH * outW * c));
  const counters: LayerCounters = { spikes: 0, events: 0 };
  const inWords = words(inH * inW * c);
  const rows = new Int32Array(2 * inH);
  const cols = new Int32Array(2 * inW);
  for (let y = 0; y < inH; y++) [rows[2 * y], rows[2 * y + 1]] = windowsHolding(y, ph, sh, layer.padding.top, outH);
  for (let x = 0; x < inW; x++) [cols[2 * x], cols[2 * x + 1]] = windowsHolding(x, pw, sw, layer.padding.left, outW);
  return {
    layer,
    out,
    counters,
    run(input) {
      out.fill(0);
      let events = 0;
      for (let w = 0; w < inWords; w++) {
        let bits = input[w]! | 0;
        while (bits !== 0) {
          const low = bits & -bits;
          bits ^= low;
          const i = (w << 5) + 31 - Math.clz32(low);
          const ch = i % c;
          const pos = (i - ch) / c;
          const x = pos % inW;
          const y = (pos - x) / inW;
          for (let oy = rows[2 * y]!; oy <= rows[2 * y + 1]!; oy++) {
            for (let ox = cols[2 * x]!; ox <= cols[2 * x + 1]!; ox++) {
              const o = (oy * outW + ox) * c + ch;
              out[o >>> 5]! |= 1 << (o & 31);
              events++;
            }
          }
        }
      }
      counters.events += events;
      let spikes = 0;
      for (let k = 0; k < out.length; k++) spikes += popcount(out[k]!);
      counters.spikes += spikes;
    },
  };
}

export function popcount(v: number): number {
  let x = v - ((v >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** The float32 value tfjs gives pixel byte b: fround(b/255) (data/batches.ts normalises the same way). */
export const PIXEL_VALUES: Float32Array = Float32Array.from({ length: 256 }, (_, b) => b / 255);

/** Runs a SpikingNetwork on images, one at a time, accumulating per-layer counters. */
export class SpikingSimulator {
  readonly network: SpikingNetwork;
  /** Neuron layers in firing order (step k + 1 for index k). */
  readonly layers: readonly NeuronLayer[];
  private readonly stages: Stage[];
  private readonly pixels: number;
  private readonly inputBits: Uint32Array;
  private readonly analog: Float32Array | undefined;
  /** Binary encoding: 1 where a pixel byte spikes. */
  private readonly spikesFor: Uint8Array;
  private readonly outputSpikes: Uint8Array;
  private readonly key;
  /** Images classified since construction or the last `resetCounters`. */
  images = 0;
  /** Input spikes (binary) or non-zero input values (analog) seen. */
  inputActive = 0;

  constructor(network: SpikingNetwork) {
    this.network = network;
    this.layers = neuronLayers(network);
    const analogInput = network.input.encoding === 'analog';
    this.stages = this.layers.map((layer, k) => {
      const analogHere = analogInput && k === 0;
      switch (layer.type) {
        case 'dense':
          return denseStage(layer, analogHere);
        case 'conv2d':
          return convStage(layer, analogHere);
        case 'or_pool2d':
          if (analogHere) throw new Error('an OR pool cannot take analog input'); // refused at conversion and load
          return orPoolStage(layer);
      }
    });
    this.pixels = sizeOf(network.input.shape);
    this.inputBits = new Uint32Array(words(this.pixels));
    this.analog = analogInput ? new Float32Array(this.pixels) : undefined;
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
    for (const s of this.stages) {
      s.counters.spikes = 0;
      s.counters.events = 0;
    }
  }

  /** Bytes this simulator allocates besides the network's own parameters (accumulators, spike vectors). */
  get workingBytes(): number {
    let bytes = this.inputBits.byteLength + (this.analog?.byteLength ?? 0) + this.spikesFor.byteLength + this.outputSpikes.byteLength;
    for (const layer of this.layers) {
      const n = neuronCount(layer);
      bytes += words(n) * 4 + (layer.type === 'or_pool2d' ? 0 : n * 4);
    }
    return bytes;
  }

  /**
   * Classifies one image: `images[offset … offset + h·w·c)` as bytes 0..255 in HWC order.
   * Returns the class (readout of DESIGN.md, ties to the lowest index).
   */
  classify(images: Uint8Array, offset = 0): number {
    const n = this.pixels;
    let active = 0;
    if (this.analog !== undefined) {
      const a = this.analog;
      for (let p = 0; p < n; p++) {
        const b = images[offset + p]!;
        a[p] = PIXEL_VALUES[b]!;
        if (b !== 0) active++;
      }
    } else {
      const bits = this.inputBits;
      bits.fill(0);
      const table = this.spikesFor;
      for (let p = 0; p < n; p++) {
        if (table[images[offset + p]!] === 1) {
          bits[p >>> 5]! |= 1 << (p & 31);
          active++;
        }
      }
    }
    this.inputActive += active;
    let spikes = this.inputBits;
    for (const stage of this.stages) {
      stage.run(spikes, this.analog);
      spikes = stage.out;
    }
    this.images++;
    const outSpikes = this.outputSpikes;
    for (let j = 0; j < outSpikes.length; j++) outSpikes[j] = (spikes[j >>> 5]! >>> (j & 31)) & 1;
    return decodeSpikes(this.key, outSpikes);
  }

  /** Spikes of neuron layer k (0-based) for the last classified image, as 0/1 per neuron. */
  layerSpikes(k: number): Uint8Array {
    const stage = this.stages[k];
    if (stage === undefined) throw new RangeError(`no neuron layer ${k}`);
    return unpackBits(stage.out, neuronCount(stage.layer));
  }

  /** The input as the first layer saw it, for the last image: spikes (binary) or values (analog). */
  inputSpikes(): Uint8Array | Float32Array {
    return this.analog !== undefined ? Float32Array.from(this.analog) : unpackBits(this.inputBits, this.pixels);
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
