/**
 * Weight quantization to N-bit signed levels, per layer, as fixed-point neuromorphic cores store
 * synapses (Loihi: up to 8-bit weights; TrueNorth: a few signed weight values per core).
 *
 * Scheme (symmetric, per neuron layer): step Δ = max|W| / (2^(N−1) − 1); each weight becomes the
 * integer round(W/Δ) ∈ [−(2^(N−1) − 1), 2^(N−1) − 1]. Biases are expressed in the same unit,
 * round(b/Δ), and not clipped (hardware keeps biases in wider registers; `biasBits` reports how
 * many signed bits they need). The threshold is rescaled consistently: with spike inputs every
 * term is an integer, so Σ W_q + b_q ≥ θ/Δ ⟺ Σ W_q + b_q ≥ ⌈θ/Δ⌉ and the threshold becomes that
 * integer (exact); a layer fed by an analog input keeps θ/Δ. The quantized network is then pure
 * integer arithmetic, exact in float32 while sums stay below 2^24.
 * OR pools (unit weights, θ = 0.5) are unchanged.
 */
import { InputError } from '../errors.js';
import { neuronLayers, type SnnLayer, type SpikingNetwork } from './network.js';

export const MIN_WEIGHT_BITS = 2;
export const MAX_WEIGHT_BITS = 16;

export interface LayerQuantization {
  readonly layer: string;
  /** Δ: the real value of one integer weight step. */
  readonly step: number;
  /** Signed bits the rounded biases need. */
  readonly biasBits: number;
}

export interface QuantizedNetwork {
  readonly network: SpikingNetwork;
  readonly bits: number;
  readonly layers: readonly LayerQuantization[];
}

function signedBits(maxAbs: number): number {
  // Smallest n with 2^(n−1) − 1 ≥ maxAbs.
  let n = 1;
  while (2 ** (n - 1) - 1 < maxAbs) n++;
  return n;
}

export function quantizeNetwork(network: SpikingNetwork, bits: number): QuantizedNetwork {
  if (!Number.isInteger(bits) || bits < MIN_WEIGHT_BITS || bits > MAX_WEIGHT_BITS) {
    throw new InputError(`--weight-bits: must be an integer from ${MIN_WEIGHT_BITS} to ${MAX_WEIGHT_BITS}, got ${bits}`);
  }
  const levels = 2 ** (bits - 1) - 1;
  const firstNeuronLayer = neuronLayers(network)[0];
  const report: LayerQuantization[] = [];
  const layers = network.layers.map((layer): SnnLayer => {
    if (layer.type !== 'dense' && layer.type !== 'conv2d') return layer;
    let maxAbs = 0;
    for (const w of layer.weights) maxAbs = Math.max(maxAbs, Math.abs(w));
    const step = maxAbs > 0 ? maxAbs / levels : 1;
    const weights = Float32Array.from(layer.weights, (w) => Math.round(w / step));
    const bias = Float32Array.from(layer.bias, (b) => Math.round(b / step));
    const analogInput = network.input.encoding === 'analog' && layer === firstNeuronLayer;
    const threshold = Float32Array.from(layer.threshold, (t) => (analogInput ? t / step : Math.ceil(t / step - 1e-9)));
    let biasMax = 0;
    for (const b of bias) biasMax = Math.max(biasMax, Math.abs(b));
    report.push({ layer: layer.name, step, biasBits: signedBits(biasMax) });
    return { ...layer, weights, bias, threshold };
  });
  return { network: { ...network, layers }, bits, layers: report };
}
