/**
 * One slice of a data-parallel training step (src/train/parallel.ts), computed the same way on
 * the main thread and in every gradient worker: the model in training mode on the slice, the
 * compiled loss (categorical cross-entropy on probabilities, as tfjs-layers' trainOnBatch), its
 * gradients for every trainable weight, and accuracy. Weights are read from and gradients written
 * to flat Float32Arrays laid out by `WeightLayout`, so that they can live in shared memory.
 */
import { tf } from '../model/tf.js';

/** Where each of a model's weights sits in a flat float32 array. */
export interface WeightLayout {
  /** `model.weights` order: shape and offset (in floats) of each. */
  readonly weights: readonly { readonly shape: readonly number[]; readonly offset: number; readonly size: number }[];
  /** Total floats of all weights. */
  readonly totalSize: number;
  /** Indices (into `weights`) of the trainable ones, in `model.trainableWeights` order. */
  readonly trainable: readonly number[];
  /** Offset of each trainable weight in a gradient array (trainable weights only, packed). */
  readonly gradOffsets: readonly number[];
  /** Total floats of a gradient array. */
  readonly gradSize: number;
  /**
   * Indices of the weights a forward pass in training mode changes (batch-norm moving mean and
   * variance): averaged over the slices after each step.
   */
  readonly running: readonly number[];
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export function weightLayout(model: tf.LayersModel): WeightLayout {
  const all = model.weights;
  let offset = 0;
  const weights = all.map((w) => {
    const entry = { shape: [...w.shape] as number[], offset, size: sizeOf(w.shape as number[]) };
    offset += entry.size;
    return entry;
  });
  const index = new Map(all.map((w, i) => [w, i]));
  const trainable = model.trainableWeights.map((w) => {
    const i = index.get(w);
    if (i === undefined) throw new Error(`trainable weight ${w.name} is not among the model's weights`);
    return i;
  });
  const gradOffsets: number[] = [];
  let gradSize = 0;
  for (const i of trainable) {
    gradOffsets.push(gradSize);
    gradSize += weights[i]!.size;
  }
  const running: number[] = [];
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    for (const w of layer.nonTrainableWeights) running.push(index.get(w)!);
  }
  return { weights, totalSize: offset, trainable, gradOffsets, gradSize, running };
}

/** Copies every weight of `model` into `out` (layout order). */
export function readWeights(model: tf.LayersModel, layout: WeightLayout, out: Float32Array): void {
  model.weights.forEach((w, i) => {
    out.set(w.read().dataSync() as Float32Array, layout.weights[i]!.offset);
  });
}

/** Sets the weights listed in `which` (default: all) from `src`. */
export function writeWeights(model: tf.LayersModel, layout: WeightLayout, src: Float32Array, which?: readonly number[]): void {
  const weights = model.weights;
  for (const i of which ?? weights.map((_, j) => j)) {
    const { offset, size, shape } = layout.weights[i]!;
    const t = tf.tensor(src.subarray(offset, offset + size), [...shape], 'float32');
    weights[i]!.write(t);
    t.dispose();
  }
}

export interface SliceResult {
  /** Mean loss over the slice. */
  loss: number;
  /** Mean accuracy over the slice. */
  accuracy: number;
  /** Trainable weights (indices into model.trainableWeights) the loss does not reach: no gradient, as tfjs skips them. */
  unreached: number[];
}

/**
 * Forward and backward pass of `model` on one slice (x: images, labels: class indices). Writes
 * the gradient of the slice's mean loss into `grads` (layout.gradOffsets) and leaves the model's
 * batch-norm moving statistics updated from this slice, as a training-mode forward pass does.
 * Weights are not changed otherwise.
 */
export function sliceGradients(
  model: tf.LayersModel,
  layout: WeightLayout,
  x: Float32Array,
  labels: Uint8Array,
  shape: readonly [number, number, number],
  classes: number,
  grads: Float32Array,
): SliceResult {
  const count = labels.length;
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const xt = tf.tensor4d(x, [count, ...shape]);
  const yt = tf.tidy(() => tf.oneHot(tf.tensor1d(Int32Array.from(labels), 'int32'), classes));
  let accuracy: tf.Scalar | undefined;
  const { value, grads: g } = tf.variableGrads(() => {
    const out = model.apply(xt, { training: true }) as tf.Tensor;
    accuracy = tf.keep(tf.mean(tf.metrics.categoricalAccuracy(yt, out)) as tf.Scalar);
    return tf.mean(tf.metrics.categoricalCrossentropy(yt, out)) as tf.Scalar;
  }, vars);
  const unreached: number[] = [];
  vars.forEach((v, k) => {
    const grad = g[v.name];
    const offset = layout.gradOffsets[k]!;
    const size = layout.weights[layout.trainable[k]!]!.size;
    if (grad === undefined) {
      grads.fill(0, offset, offset + size);
      unreached.push(k);
    } else grads.set(grad.dataSync() as Float32Array, offset);
  });
  const result = { loss: value.dataSync()[0]!, accuracy: accuracy!.dataSync()[0]!, unreached };
  tf.dispose([xt, yt, value, accuracy!, ...Object.values(g)]);
  return result;
}
