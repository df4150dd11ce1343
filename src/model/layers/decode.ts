/**
 * SoftmaxDecode: turns the last spiking layer's spikes s into class probabilities through a
 * fixed n-hot key K (classes × width): softmax((2s − 1)·(2Kᵀ − 1) / T). The key is part of the model
 * (saved in its config) and of the spiking artifact. Whetstone's Softmax_Decode, which has T = 1;
 * a larger T keeps the softmax of a wide key from saturating. T only scales the logits, so the
 * inference readout (their argmax) does not depend on it.
 */
import { tf } from '../tf.js';
import type { OutputKey } from '../key.js';

export interface SoftmaxDecodeArgs {
  name?: string;
  /** The `classes × width` 0/1 key. Required. */
  key: OutputKey;
  /** T > 0, dividing the logits. Defaults to 1. */
  temperature?: number;
}

export class SoftmaxDecode extends tf.layers.Layer {
  static className = 'SoftmaxDecode';
  readonly key: OutputKey;
  readonly temperature: number;
  private signedKeyT?: tf.Tensor2D;

  constructor(args: SoftmaxDecodeArgs) {
    super({ name: args.name, trainable: false });
    this.key = args.key.map((row) => row.map((v) => (v ? 1 : 0)));
    const t = args.temperature ?? 1;
    if (!(t > 0) || !Number.isFinite(t)) throw new Error(`SoftmaxDecode: temperature must be a positive number, got ${String(t)}`);
    this.temperature = t;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const width = shape[shape.length - 1];
    const keyWidth = this.key[0]?.length ?? 0;
    if (width !== keyWidth) {
      throw new Error(`SoftmaxDecode: input has ${String(width)} neurons but the key has ${keyWidth}`);
    }
    // (2Kᵀ − 1) / T, kept for the layer's lifetime: width × classes.
    this.signedKeyT = tf.keep(
      tf.tidy(() => tf.div(tf.sub(tf.mul(tf.tensor2d(this.key).transpose(), 2), 1), this.temperature) as tf.Tensor2D),
    );
    super.build(inputShape);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const s = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor2D;
      const logits = tf.matMul(tf.sub(tf.mul(s, 2), 1), this.signedKeyT!);
      return tf.softmax(logits);
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [shape[0] ?? null, this.key.length];
  }

  override getConfig(): tf.serialization.ConfigDict {
    // T = 1 is left out, so models without a temperature keep their config unchanged.
    return { ...super.getConfig(), key: this.key, ...(this.temperature === 1 ? {} : { temperature: this.temperature }) };
  }

  override dispose(): ReturnType<tf.layers.Layer['dispose']> {
    this.signedKeyT?.dispose();
    return super.dispose();
  }
}

tf.serialization.registerClass(SoftmaxDecode);
