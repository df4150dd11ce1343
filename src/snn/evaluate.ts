/**
 * Evaluation of a SpikingNetwork on a dataset split, in the simulator: accuracy, confusion matrix,
 * per-layer spike statistics, synaptic events against the equivalent ANN's multiply-accumulates,
 * and the energy estimate. A pure function of the network and the images (plus a clock for the
 * throughput); `train` calls it at the end of a run and `whetstone evaluate` prints it.
 */
import { estimateEnergy, type EnergyEstimate } from './energy.js';
import { latencySteps, macsOf, neuronCount, neuronLayers, parameterBytes, sizeOf, type SpikingNetwork } from './network.js';
import { quantizeNetwork, type LayerQuantization } from './quantize.js';
import { SpikingSimulator } from './simulator.js';

/** Images and labels, as a DatasetSplit holds them (HWC bytes, one label byte per image). */
export interface LabelledImages {
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
  readonly count: number;
}

export interface EvaluationOptions {
  /** Classes another implementation (the tfjs model) predicted for the same images, to count agreement. */
  readonly reference?: Uint8Array;
  /** Dataset name, recorded in the result. */
  readonly dataset?: string;
  /** Evaluate only the first N images. Defaults to all. */
  readonly limit?: number;
  /** Quantize weights to N-bit signed levels first (quantize.ts); the float accuracy is reported too. */
  readonly weightBits?: number;
  /** Called every few hundred images. */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface LayerStatistics {
  readonly name: string;
  readonly type: 'dense' | 'conv2d' | 'or_pool2d';
  /** Time step at which this layer fires (input = step 0). */
  readonly step: number;
  readonly neurons: number;
  /** What arrives: spikes, or real values (the first layer of an analog-input network). */
  readonly input: 'spikes' | 'analog';
  readonly spikes_per_inference: number;
  /** Mean fraction of this layer's neurons that fire per inference. */
  readonly fraction_active: number;
  /** Synaptic events into this layer: one per incoming spike per outgoing synapse it crosses. */
  readonly synaptic_events_per_inference: number;
  /** Multiply-accumulates of the equivalent ANN layer (0 for pooling). */
  readonly ann_macs_per_inference: number;
}

export interface EvaluationResult {
  readonly network: string;
  readonly dataset: string | null;
  readonly images: number;
  readonly input_encoding: 'binary' | 'analog';
  /** null: float32 weights as trained. */
  readonly weight_bits: number | null;
  readonly accuracy: number;
  readonly correct: number;
  /**
   * Images whose readout tied between classes (the same best score; resolved to the lowest class
   * index, as tfjs's argmax does). Many ties mean the output layer has too few neurons per class.
   */
  readonly tied_decisions: number;
  /** With --weight-bits: accuracy of the same network before quantization. */
  readonly unquantized_accuracy: number | null;
  readonly class_names: readonly string[];
  /** confusion[true][predicted] = images. */
  readonly confusion: number[][];
  /** Steps from input to output spikes (one per neuron layer). */
  readonly latency_steps: number;
  readonly parameter_bytes: number;
  /** Spikes (binary) or non-zero values (analog) in the input per inference. */
  readonly input_active_per_inference: number;
  readonly layers: readonly LayerStatistics[];
  readonly totals: {
    readonly neurons: number;
    readonly spikes_per_inference: number;
    readonly synaptic_events_per_inference: number;
    readonly ann_macs_per_inference: number;
    /** synaptic events / ANN MACs: below 1 means fewer operations than the dense network. */
    readonly events_per_mac: number;
  };
  readonly energy: EnergyEstimate;
  readonly quantization: readonly LayerQuantization[] | null;
  /** Images for which the simulator predicts the same class as `options.reference`; null without one. */
  readonly reference_agreement: number | null;
  /** Simulator wall time and throughput on this machine (one thread). */
  readonly seconds: number;
  readonly images_per_second: number;
}

const PROGRESS_EVERY = 500;

/** Classifies the first `count` images with a fresh simulator; returns predictions and the simulator (for its counters). */
export function simulateImages(network: SpikingNetwork, data: LabelledImages, count = data.count, onProgress?: (done: number, total: number) => void): { predictions: Uint8Array; simulator: SpikingSimulator; seconds: number } {
  const simulator = new SpikingSimulator(network);
  const pixels = sizeOf(network.input.shape);
  if (data.images.length < count * pixels) {
    throw new RangeError(`simulateImages: ${data.images.length} bytes cannot hold ${count} images of ${pixels} pixels`);
  }
  const predictions = new Uint8Array(count);
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    predictions[i] = simulator.classify(data.images, i * pixels);
    if (onProgress !== undefined && (i + 1) % PROGRESS_EVERY === 0) onProgress(i + 1, count);
  }
  return { predictions, simulator, seconds: (performance.now() - start) / 1000 };
}

/** Predicted classes of the spiking network for every image (or the first `limit`). */
export function predictSpiking(network: SpikingNetwork, data: LabelledImages, limit?: number): Uint8Array {
  return simulateImages(network, data, Math.min(limit ?? data.count, data.count)).predictions;
}

function countCorrect(predictions: Uint8Array, labels: Uint8Array): number {
  let correct = 0;
  for (let i = 0; i < predictions.length; i++) if (predictions[i] === labels[i]) correct++;
  return correct;
}

/** Runs the network on the images and returns accuracy, confusion, statistics and energy. */
export function evaluateSpikingNetwork(network: SpikingNetwork, data: LabelledImages, options: EvaluationOptions = {}): EvaluationResult {
  const count = Math.min(options.limit ?? data.count, data.count);
  let unquantizedAccuracy: number | null = null;
  let quantization: readonly LayerQuantization[] | null = null;
  let simulated = network;
  if (options.weightBits !== undefined) {
    const q = quantizeNetwork(network, options.weightBits);
    const before = simulateImages(network, data, count).predictions;
    unquantizedAccuracy = count === 0 ? Number.NaN : countCorrect(before, data.labels) / count;
    simulated = q.network;
    quantization = q.layers;
  }
  const { predictions, simulator, seconds } = simulateImages(simulated, data, count, options.onProgress);
  const classes = network.output.key.length;
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let correct = 0;
  let agreeing = 0;
  for (let i = 0; i < count; i++) {
    const truth = data.labels[i]!;
    const predicted = predictions[i]!;
    if (truth === predicted) correct++;
    if (options.reference !== undefined && options.reference[i] === predicted) agreeing++;
    const row = confusion[truth];
    if (row !== undefined) row[predicted]!++;
  }
  const n = Math.max(count, 1);
  const counters = simulator.counters;
  const layers = simulator.layers.map((layer, k): LayerStatistics => {
    const neurons = neuronCount(layer);
    const spikes = counters[k]!.spikes / n;
    return {
      name: layer.name,
      type: layer.type,
      step: k + 1,
      neurons,
      input: k === 0 && network.input.encoding === 'analog' ? 'analog' : 'spikes',
      spikes_per_inference: spikes,
      fraction_active: spikes / neurons,
      synaptic_events_per_inference: counters[k]!.events / n,
      ann_macs_per_inference: macsOf(layer),
    };
  });
  const sum = (f: (l: LayerStatistics) => number) => layers.reduce((a, l) => a + f(l), 0);
  const events = sum((l) => l.synaptic_events_per_inference);
  const macs = sum((l) => l.ann_macs_per_inference);
  return {
    network: network.name,
    dataset: options.dataset ?? null,
    images: count,
    input_encoding: network.input.encoding,
    weight_bits: options.weightBits ?? null,
    accuracy: count === 0 ? Number.NaN : correct / count,
    correct,
    tied_decisions: simulator.ties,
    unquantized_accuracy: unquantizedAccuracy,
    class_names: [...network.output.classNames],
    confusion,
    latency_steps: latencySteps(network),
    parameter_bytes: parameterBytes(simulated),
    input_active_per_inference: simulator.inputActive / n,
    reference_agreement: options.reference === undefined ? null : agreeing,
    layers,
    totals: {
      neurons: neuronLayers(network).reduce((a, l) => a + neuronCount(l), 0),
      spikes_per_inference: sum((l) => l.spikes_per_inference),
      synaptic_events_per_inference: events,
      ann_macs_per_inference: macs,
      events_per_mac: macs > 0 ? events / macs : Number.NaN,
    },
    energy: estimateEnergy(events, macs),
    quantization,
    seconds,
    images_per_second: seconds > 0 ? count / seconds : Number.NaN,
  };
}
