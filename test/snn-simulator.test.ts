/**
 * The event-driven simulator against a naive reference (every neuron sums every input) on hand-built
 * networks with strides, asymmetric padding, overlapping OR pools and flattens; the readout's ties;
 * the counters behind the statistics; quantization. No tfjs in this file.
 */
import { describe, expect, it } from 'vitest';
import { decodeSpikes, readout } from '../src/model/key.js';
import { evaluateSpikingNetwork } from '../src/snn/evaluate.js';
import { macsOf, neuronCount, neuronLayers, sizeOf, type SpikingNetwork } from '../src/snn/network.js';
import { quantizeNetwork } from '../src/snn/quantize.js';
import { SpikingSimulator, popcount } from '../src/snn/simulator.js';
import { SeededRandom } from '../src/util/random.js';
import { conv, dense, nHotKey, orPool, randomImages, referenceClass, referenceSpikes, smallCnn } from './helpers/snn-networks.js';

describe('SpikingSimulator', () => {
  it.each(['wasm-simd', 'js'] as const)('matches the reference simulator neuron for neuron on a strided, padded CNN with an overlapping OR pool (%s kernel)', (kernel) => {
    const network = smallCnn(11);
    const sim = new SpikingSimulator(network, { kernel });
    expect(sim.kernel).toBe(kernel);
    const pixels = sizeOf(network.input.shape);
    const images = randomImages(5, 200, pixels);
    let firing = 0;
    for (let i = 0; i < 200; i++) {
      const image = images.subarray(i * pixels, (i + 1) * pixels);
      const predicted = sim.classify(image);
      const expected = referenceSpikes(network, image);
      expected.forEach((spikes, k) => expect(Array.from(sim.layerSpikes(k)), `image ${i} layer ${k}`).toEqual(spikes));
      expect(predicted).toBe(referenceClass(network, image));
      firing += expected[0]!.reduce((a, b) => a + b, 0);
    }
    // A test that cannot fail is a defect: make sure the network actually spikes, and not always.
    expect(firing).toBeGreaterThan(200);
    expect(firing).toBeLessThan(200 * neuronCount(neuronLayers(network)[0]!));
  });

  it('reads images at an offset inside a larger buffer (a dataset split)', () => {
    const network = smallCnn(3);
    const pixels = sizeOf(network.input.shape);
    const images = randomImages(9, 20, pixels);
    const sim = new SpikingSimulator(network);
    for (let i = 0; i < 20; i++) {
      expect(sim.classify(images, i * pixels)).toBe(referenceClass(network, images.subarray(i * pixels, (i + 1) * pixels)));
    }
  });

  it('binary encoding spikes exactly where fround(byte/255) ≥ fround(threshold), as the tfjs SpikeEncoder does', () => {
    const rng = new SeededRandom(1);
    const network: SpikingNetwork = {
      name: 'identity',
      input: { shape: [1, 256, 1], encoding: 'binary', threshold: 0.5 },
      layers: [{ type: 'flatten', name: 'f', inputShape: [1, 256, 1], order: 'hwc' }, dense(rng, 'd', 256, 2)],
      output: { key: nHotKey(2, 1), classNames: ['x', 'y'] },
    };
    const sim = new SpikingSimulator(network);
    sim.classify(Uint8Array.from({ length: 256 }, (_, b) => b));
    const spikes = sim.inputSpikes() as Uint8Array;
    // 127/255 < 0.5 ≤ 128/255
    expect(spikes.indexOf(1)).toBe(128);
    expect(Array.from(spikes.subarray(128)).every((s) => s === 1)).toBe(true);
    expect(sim.inputActive).toBe(128);
  });

  it('counts a synaptic event per incoming spike per synapse it crosses, edges included', () => {
    const rng = new SeededRandom(2);
    // 4×4×1 input, conv 3×3 'same' stride 1: a corner pixel reaches 4 output positions, the centre 9.
    const c = conv(rng, 'c', [4, 4, 1], 2, [3, 3], [1, 1], 'same', 100); // θ = 100: never fires
    const network: SpikingNetwork = {
      name: 'edges',
      input: { shape: [4, 4, 1], encoding: 'binary', threshold: 0.5 },
      layers: [c, { type: 'flatten', name: 'f', inputShape: c.outputShape, order: 'hwc' }, dense(rng, 'd', 32, 2)],
      output: { key: nHotKey(2, 1), classNames: ['x', 'y'] },
    };
    const sim = new SpikingSimulator(network);
    const image = new Uint8Array(16);
    image[0] = 255; // corner
    image[5] = 255; // inner
    sim.classify(image);
    expect(sim.counters[0]!.events).toBe((4 + 9) * 2);
    expect(sim.counters[0]!.spikes).toBe(0);
    expect(sim.counters[1]!.events).toBe(0); // nothing spiked, nothing propagates
    // The ANN's MACs count only taps inside the input: Σ over positions of valid taps × channels.
    expect(macsOf(c)).toBe(validTaps(4, 3) * 1 * 2); // 10 taps per axis → 100 × 1 input channel × 2 filters
  });

  it('gives a class by the key readout, ties to the lowest class (DESIGN.md)', () => {
    const key = nHotKey(3, 2);
    expect(decodeSpikes(key, [0, 0, 0, 0, 0, 0])).toBe(0); // all tied
    expect(decodeSpikes(key, [0, 0, 1, 0, 1, 0])).toBe(1); // classes 1 and 2 tie → 1
    expect(decodeSpikes(key, [0, 0, 0, 0, 1, 1])).toBe(2);
    expect(readout(key, [0, 0, 0, 0, 0, 0])).toEqual({ predicted: 0, tied: true });
    expect(readout(key, [0, 0, 1, 0, 1, 0])).toEqual({ predicted: 1, tied: true });
    expect(readout(key, [1, 0, 1, 1, 0, 0])).toEqual({ predicted: 1, tied: false });
    expect(readout(key, [1, 1, 0, 0, 1, 0])).toEqual({ predicted: 0, tied: false }); // a tie below the best is no tie
  });

  it.each(['wasm-simd', 'js'] as const)('allocates at most twice the size of the weights (%s kernel, 784-256-64-100 network)', (kernel) => {
    const rng = new SeededRandom(6);
    const network: SpikingNetwork = {
      name: 'mlp',
      input: { shape: [28, 28, 1], encoding: 'binary', threshold: 0.5 },
      layers: [{ type: 'flatten', name: 'f', inputShape: [28, 28, 1], order: 'hwc' }, dense(rng, 'a', 784, 256), dense(rng, 'b', 256, 64), dense(rng, 'c', 64, 100)],
      output: { key: nHotKey(10, 10), classNames: Array.from({ length: 10 }, (_, i) => String(i)) },
    };
    const sim = new SpikingSimulator(network, { kernel });
    const weights = (784 * 256 + 256 * 64 + 64 * 100) * 4;
    expect(sim.weightBytes).toBe(weights);
    expect(sim.memoryBytes).toBeGreaterThan(weights);
    expect(sim.memoryBytes).toBeLessThanOrEqual(2 * weights);
    expect(sim.workingBytes).toBe(sim.memoryBytes - weights);
  });

  it('gives identical classes and counters with the wasm and the JS kernel, binary and analog input', () => {
    for (const encoding of ['binary', 'analog'] as const) {
      const network = smallCnn(31, encoding);
      const pixels = sizeOf(network.input.shape);
      const images = randomImages(32, 300, pixels);
      const a = new SpikingSimulator(network, { kernel: 'wasm-simd' });
      const b = new SpikingSimulator(network, { kernel: 'js' });
      for (let i = 0; i < 300; i++) expect(a.classify(images, i * pixels)).toBe(b.classify(images, i * pixels));
      expect(a.counters).toEqual(b.counters);
      expect(a.counters[0]!.spikes).toBeGreaterThan(0);
    }
  });
});

/** Σ over output positions of taps inside an n×n input for a k×k 'same' kernel, stride 1. */
function validTaps(n: number, k: number): number {
  const half = Math.floor((k - 1) / 2);
  let t = 0;
  for (let o = 0; o < n; o++) t += Math.min(n, o - half + k) - Math.max(0, o - half);
  return t * t;
}

describe('evaluateSpikingNetwork', () => {
  it('reports accuracy, a confusion matrix and per-layer statistics consistent with each other', () => {
    const network = smallCnn(21);
    const pixels = sizeOf(network.input.shape);
    const count = 300;
    const images = randomImages(22, count, pixels);
    const labels = Uint8Array.from({ length: count }, (_, i) => referenceClass(network, images.subarray(i * pixels, (i + 1) * pixels)));
    labels[0] = (labels[0]! + 1) % 4; // one wrong label: accuracy 299/300
    const r = evaluateSpikingNetwork(network, { images, labels, count }, { dataset: 'random' });
    expect(r.images).toBe(count);
    expect(r.correct).toBe(count - 1);
    expect(r.accuracy).toBeCloseTo((count - 1) / count, 12);
    expect(r.confusion.flat().reduce((a, b) => a + b, 0)).toBe(count);
    expect(r.confusion.reduce((a, row, i) => a + row[i]!, 0)).toBe(count - 1);
    // Ties counted against the readout of the reference implementation's output spikes.
    const ties = Array.from({ length: count }, (_, i) => readout(network.output.key, referenceSpikes(network, images.subarray(i * pixels, (i + 1) * pixels)).at(-1)!).tied);
    expect(r.tied_decisions).toBe(ties.filter(Boolean).length);
    expect(r.tied_decisions).toBeGreaterThan(0);
    expect(r.layers.map((l) => l.step)).toEqual([1, 2, 3, 4]);
    expect(r.latency_steps).toBe(4);
    for (const l of r.layers) {
      expect(l.fraction_active).toBeCloseTo(l.spikes_per_inference / l.neurons, 12);
      expect(l.fraction_active).toBeGreaterThanOrEqual(0);
      expect(l.fraction_active).toBeLessThanOrEqual(1);
    }
    // Events into the dense layer = spikes of the layer before × its units.
    const before = r.layers[2]!;
    expect(r.layers[3]!.synaptic_events_per_inference).toBeCloseTo(before.spikes_per_inference * 12, 9);
    expect(r.totals.synaptic_events_per_inference).toBeCloseTo(r.layers.reduce((a, l) => a + l.synaptic_events_per_inference, 0), 9);
    expect(r.energy.estimate).toBe(true);
    const loihi = r.energy.rows.find((e) => e.platform === 'Loihi')!;
    expect(loihi.joules_per_inference).toBeCloseTo(r.totals.synaptic_events_per_inference * 23.6e-12, 20);
    expect(r.energy.rows.some((e) => e.op === 'MAC' && e.ops_per_inference === r.totals.ann_macs_per_inference)).toBe(true);
    expect(JSON.parse(JSON.stringify(r)).layers).toHaveLength(4);
  });

  it('honours limit', () => {
    const network = smallCnn(2);
    const images = randomImages(1, 50, sizeOf(network.input.shape));
    const r = evaluateSpikingNetwork(network, { images, labels: new Uint8Array(50), count: 50 }, { limit: 7 });
    expect(r.images).toBe(7);
    expect(r.confusion.flat().reduce((a, b) => a + b, 0)).toBe(7);
  });
});

describe('quantizeNetwork', () => {
  it('maps weights to N-bit signed integers per layer and keeps the firing rule consistent', () => {
    const network = smallCnn(8);
    const q = quantizeNetwork(network, 4);
    for (const layer of q.network.layers) {
      if (layer.type !== 'dense' && layer.type !== 'conv2d') continue;
      expect(Math.max(...Array.from(layer.weights, Math.abs))).toBe(7);
      expect(Array.from(layer.weights).every(Number.isInteger)).toBe(true);
      expect(Array.from(layer.bias).every(Number.isInteger)).toBe(true);
      expect(Array.from(layer.threshold).every(Number.isInteger)).toBe(true);
    }
    // At 16 bits the quantized network decides like the float one. (Jitter the dyadic test weights
    // first: with them many sums land exactly on θ, where any rounding flips the spike.)
    const rng = new SeededRandom(99);
    const jittered: SpikingNetwork = {
      ...network,
      layers: network.layers.map((l) => (l.type === 'dense' || l.type === 'conv2d' ? { ...l, weights: l.weights.map((w) => w + (rng.next() - 0.5) / 997) } : l)),
    };
    const q16 = quantizeNetwork(jittered, 16).network;
    const pixels = sizeOf(network.input.shape);
    const images = randomImages(3, 100, pixels);
    const a = new SpikingSimulator(jittered);
    const b = new SpikingSimulator(q16);
    let same = 0;
    for (let i = 0; i < 100; i++) if (a.classify(images, i * pixels) === b.classify(images, i * pixels)) same++;
    expect(same).toBe(100);
  });

  it('rejects a bit width outside 2..16 with an InputError', () => {
    expect(() => quantizeNetwork(smallCnn(1), 1)).toThrow(/--weight-bits: must be an integer from 2 to 16/);
    expect(() => quantizeNetwork(smallCnn(1), 17)).toThrow(/2 to 16/);
  });
});

describe('popcount', () => {
  it('counts bits of 32-bit words', () => {
    expect(popcount(0)).toBe(0);
    expect(popcount(0xffffffff)).toBe(32);
    expect(popcount(0x80000001)).toBe(2);
  });
});

describe('OR pooling', () => {
  it('fires when any spike falls in the window, padded positions absent', () => {
    const p = orPool('p', [3, 3, 1], [2, 2], [2, 2], 'same');
    expect(p.outputShape).toEqual([2, 2, 1]);
    const rng = new SeededRandom(0);
    const network: SpikingNetwork = {
      name: 'or',
      input: { shape: [3, 3, 1], encoding: 'binary', threshold: 0.5 },
      layers: [p, { type: 'flatten', name: 'f', inputShape: [2, 2, 1], order: 'hwc' }, dense(rng, 'd', 4, 2)],
      output: { key: nHotKey(2, 1), classNames: ['x', 'y'] },
    };
    const sim = new SpikingSimulator(network);
    const image = new Uint8Array(9);
    image[8] = 200; // bottom-right pixel: only window (1, 1) holds it
    sim.classify(image);
    expect(Array.from(sim.layerSpikes(0))).toEqual([0, 0, 0, 1]);
  });
});
