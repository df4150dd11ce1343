/**
 * Honest accuracy: the model's predicted classes on a whole split, batch by batch, in inference
 * mode. "Spiking" accuracy sets every spiking layer to sharpness 1 first (and restores it after),
 * so it measures the network that hardware would run, whatever point training has reached.
 */
import { batches, identityOrder, type DatasetSplit, type ImageShape } from '../data/index.js';
import type { SpikingLayer } from '../model/layers/spiking.js';
import { tf } from '../model/tf.js';

const EVAL_BATCH = 500;

/** Predicted class of every image in the split (argmax of the model's output; ties → lowest index). */
export function predictClasses(model: tf.LayersModel, split: DatasetSplit, shape: ImageShape): Uint8Array {
  const out = new Uint8Array(split.count);
  let offset = 0;
  for (const batch of batches(split, identityOrder(split.count), EVAL_BATCH, shape)) {
    const classes = tf.tidy(() => {
      const x = tf.tensor4d(batch.x, [batch.count, shape[0], shape[1], shape[2]]);
      return tf.argMax(model.predict(x) as tf.Tensor, -1);
    });
    out.set(classes.dataSync(), offset);
    classes.dispose();
    offset += batch.count;
  }
  return out;
}

export function accuracyOf(predicted: Uint8Array, labels: Uint8Array): number {
  if (predicted.length === 0) return Number.NaN;
  let correct = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === labels[i]) correct++;
  return correct / predicted.length;
}

export function evaluateAccuracy(model: tf.LayersModel, split: DatasetSplit, shape: ImageShape): number {
  return accuracyOf(predictClasses(model, split, shape), split.labels);
}

/** Runs `fn` with every spiking layer at sharpness `value`, then restores the previous sharpness. */
export function withSharpness<T>(layers: readonly SpikingLayer[], value: number, fn: () => T): T {
  const saved = layers.map((l) => l.sharpness);
  layers.forEach((l) => l.setSharpness(value));
  const restore = () => layers.forEach((l, i) => l.setSharpness(saved[i]!));
  let result: T;
  try {
    result = fn();
  } catch (e) {
    restore();
    throw e;
  }
  if (result instanceof Promise) return result.finally(restore) as T;
  restore();
  return result;
}

/** Runs `fn` on the spiking network: every layer at sharpness 1. */
export function withFullSharpness<T>(layers: readonly SpikingLayer[], fn: () => T): T {
  return withSharpness(layers, 1, fn);
}
