/**
 * Data-based initialisation of a rewritten model, so that before any fine-tuning it computes
 * nearly what the source model computed (measured on a sample of training images):
 *
 * - ReLU layers. A sharpened bounded ReLU at sharpness 0 is clip(x, 0, 1) (to 0.1%): it agrees with
 *   ReLU only on [0, 1]. ReLU is positively homogeneous, so the layer's pre-activation is divided
 *   by λ, the 99th percentile of its positive values, and the next Conv2D/Dense's kernel is
 *   multiplied by λ: the ReLU network computes the same function, now mostly inside [0, 1]
 *   ("data-based normalisation", Diehl et al., IJCNN 2015; Rueckauer et al., Front. Neurosci. 2017).
 * - Sigmoid layers. The sharpened sigmoid at sharpness 0 is σ(k₀·x) with k₀ = 4·ln(2 + √3)/1.001;
 *   dividing the pre-activation by k₀ makes it exactly the source's σ(x).
 * - The head. Each class's n output neurons copy that class's weights from the source classifier
 *   (logits z), as α·(z − t) + θ: t is the median midpoint between the top two logits and α maps
 *   half their median gap to 0.5, so the winning class sits above the threshold θ and the runner-up
 *   below it. A little seeded noise (10% of the column's RMS) breaks the symmetry between a class's
 *   copies, which would otherwise receive identical gradients forever. With an overlapping key a
 *   neuron serves several classes and nothing can be copied: the head keeps its Glorot initialisation.
 *
 * The scaling is written into the batch norm after a layer when there is one (γ and β), otherwise
 * into the layer's own kernel and bias.
 */
import { SeededRandom } from '../../util/random.js';
import { BRELU_THRESHOLD, SIGMOID_THRESHOLD } from '../layers/spiking.js';
import { tf } from '../tf.js';
import type { ConversionPlan } from './plan.js';
import type { RewrittenModel } from './rewrite.js';

/** Slope of the sharpened sigmoid at sharpness 0 (width 1.001): see layers/spiking.ts. */
const SIGMOID_K0 = (4 * Math.log(2 + Math.sqrt(3))) / 1.001;
/** Percentile of the positive pre-activations that maps to 1 (robust to a few outliers). */
const RELU_PERCENTILE = 0.99;
const HEAD_NOISE = 0.1;

export interface Calibration {
  /** Per hidden spiking layer, input side first: the factor its pre-activation was multiplied by. */
  readonly layers: { readonly name: string; readonly activation: string; readonly scale: number }[];
  /** The head: logits offset t and gain α, or null when the key overlaps (head not copied). */
  readonly head: { readonly offset: number; readonly gain: number } | null;
  /** Images the statistics were measured on. */
  readonly images: number;
}

/** Output of the model's layers up to (not including) the layer named `stop`, in inference mode. */
function forwardTo(model: tf.LayersModel, x: tf.Tensor, stop: string): tf.Tensor {
  return tf.tidy(() => {
    let y = x;
    for (const layer of model.layers) {
      if (layer.name === stop) return y;
      y = layer.apply(y) as tf.Tensor;
    }
    throw new Error(`forwardTo: no layer ${stop}`);
  });
}

function setScaled(layer: tf.layers.Layer, scales: (number | undefined)[]): void {
  const weights = layer.getWeights();
  const scaled = weights.map((w, i) => (scales[i] === undefined ? w.clone() : tf.mul(w, scales[i]!)));
  layer.setWeights(scaled);
  scaled.forEach((t) => t.dispose());
}

/** Multiplies what `layer` outputs by `factor`. Returns false if it cannot (a batch norm without γ). */
function scaleOutput(layer: tf.layers.Layer, factor: number): boolean {
  if (layer.getClassName() === 'BatchNormalization') {
    const cfg = layer.getConfig() as { scale?: boolean; center?: boolean };
    if (cfg.scale === false) return false;
    // Weights: gamma, [beta], moving mean, moving variance.
    setScaled(layer, cfg.center === false ? [factor] : [factor, factor]);
    return true;
  }
  setScaled(layer, [factor, factor]);
  return true;
}

function percentile(values: Float32Array, q: number): number {
  const sorted = Float32Array.from(values).sort();
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor(s.length / 2)]!;
};

/**
 * Calibrates `rewritten` in place on the images `x` (already shaped as the model's input).
 * `source` provides the classifier weights the head starts from.
 */
export function calibrate(rewritten: RewrittenModel, plan: ConversionPlan, source: tf.LayersModel, x: tf.Tensor, seed: number): Calibration {
  const { model } = rewritten;
  const layers: Calibration['layers'] = [];
  let headInputScale = 1;
  for (const step of plan.steps) {
    if (step.op !== 'spiking') continue;
    let scale: number;
    if (step.activation === 'sigmoid') {
      scale = 1 / SIGMOID_K0;
    } else {
      const pre = forwardTo(model, x, step.name);
      const values = pre.dataSync() as Float32Array;
      pre.dispose();
      const lambda = percentile(values.filter((v) => v > 0), RELU_PERCENTILE);
      scale = Number.isFinite(lambda) && lambda > 0 ? 1 / lambda : 1;
    }
    if (!scaleOutput(model.getLayer(step.scaleAt), scale)) scale = 1;
    // Undo the scale where the spikes are read, so the ReLU network's function is unchanged.
    if (step.activation === 'brelu' && scale !== 1) {
      if (step.consumer === 'head') headInputScale = 1 / scale;
      else setScaled(model.getLayer(step.consumer), [1 / scale]);
    }
    layers.push({ name: step.name, activation: step.activation, scale });
  }

  // The head, from the source classifier.
  const key = rewritten.key;
  const classes = key.length;
  const width = key[0]!.length;
  const owner = Array.from({ length: width }, (_, j) => key.map((row, c) => (row[j] === 1 ? c : -1)).filter((c) => c >= 0));
  if (owner.some((o) => o.length !== 1)) return { layers, head: null, images: x.shape[0] };
  const [sourceKernel, sourceBias] = source.getLayer(plan.head.source.name).getWeights();
  const inputs = plan.head.inputUnits;
  const W = Float32Array.from(sourceKernel!.dataSync() as Float32Array, (v) => v * headInputScale);
  const b = sourceBias === undefined ? new Float32Array(classes) : (sourceBias.dataSync() as Float32Array);
  const logits = tf.tidy(() => {
    const h = forwardTo(model, x, rewritten.head);
    return tf.add(tf.matMul(h as tf.Tensor2D, tf.tensor2d(W, [inputs, classes])), tf.tensor1d(b));
  });
  const z = logits.dataSync() as Float32Array;
  logits.dispose();
  const mids: number[] = [];
  const gaps: number[] = [];
  for (let r = 0; r < z.length / classes; r++) {
    let top = -Infinity;
    let second = -Infinity;
    for (let c = 0; c < classes; c++) {
      const v = z[r * classes + c]!;
      if (v > top) [top, second] = [v, top];
      else if (v > second) second = v;
    }
    mids.push((top + second) / 2);
    gaps.push(top - second);
  }
  const offset = median(mids);
  const gap = median(gaps);
  const gain = gap > 1e-6 ? 1 / gap : 1;
  const theta = plan.outputActivation === 'sigmoid' ? SIGMOID_THRESHOLD : BRELU_THRESHOLD;
  const rms = Array.from({ length: classes }, (_, c) => {
    let s = 0;
    for (let i = 0; i < inputs; i++) s += (gain * W[i * classes + c]!) ** 2;
    return Math.sqrt(s / inputs);
  });
  const rng = new SeededRandom(seed);
  const kernel = new Float32Array(inputs * width);
  const bias = new Float32Array(width);
  for (let j = 0; j < width; j++) {
    const c = owner[j]![0]!;
    bias[j] = gain * (b[c]! - offset) + theta;
    for (let i = 0; i < inputs; i++) kernel[i * width + j] = gain * W[i * classes + c]! + HEAD_NOISE * rms[c]! * (2 * rng.next() - 1);
  }
  const k = tf.tensor2d(kernel, [inputs, width]);
  const bt = tf.tensor1d(bias);
  model.getLayer(rewritten.head).setWeights([k, bt]);
  k.dispose();
  bt.dispose();
  return { layers, head: { offset, gain }, images: x.shape[0] };
}
