/**
 * Sharpened activations (Severa et al., "Training deep neural networks for binary communication
 * with the Whetstone method", Nature Machine Intelligence 2019). Each is a bounded activation
 * with a non-trainable, saved `sharpness` in [0, 1]; at sharpness 1 it is an exact step, so the
 * layer's output is a spike (1) or silence (0).
 *
 *   bounded ReLU:  width = 1 − s + 0.001;  y = clip((x − 0.5)/width + 0.5, 0, 1);  s = 1: y = [x ≥ 0.5]
 *   sigmoid:       k = 4·ln(2 + √3)/width; y = 1/(1 + exp(−k·x));                  s = 1: y = [x ≥ 0]
 */
import { tf } from '../tf.js';

type Tensor = tf.Tensor;
type Kwargs = Record<string, unknown>;

export interface SpikingArgs {
  /** Layer name. Defaults to a unique generated name. */
  name?: string;
  /** Initial sharpness in [0, 1]. Defaults to 0. */
  sharpness?: number;
  trainable?: boolean;
}

/** Threshold θ: a neuron fires iff its input is ≥ θ (DESIGN.md, "Neuron"). */
export const BRELU_THRESHOLD = 0.5;
export const SIGMOID_THRESHOLD = 0;

/** The sigmoid's slope constant: makes its 0.25…0.75 transition as wide as the bounded ReLU's. */
const SIGMOID_K = 4 * Math.log(2 + Math.sqrt(3));

abstract class SpikingActivation extends tf.layers.Layer {
  /** Firing threshold θ of the step this activation sharpens into. */
  abstract readonly threshold: number;
  private sharpnessWeight?: tf.LayerVariable;
  private readonly initialSharpness: number;

  constructor(args: SpikingArgs = {}) {
    super({ name: args.name, trainable: args.trainable ?? true });
    this.initialSharpness = args.sharpness ?? 0;
    this.supportsMasking = true;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    this.sharpnessWeight = this.addWeight(
      'sharpness',
      [],
      'float32',
      tf.initializers.constant({ value: this.initialSharpness }),
      undefined,
      false,
    );
    super.build(inputShape);
  }

  /** Current sharpness (reads the saved variable). */
  get sharpness(): number {
    return this.sharpnessWeight === undefined ? this.initialSharpness : (this.sharpnessWeight.read().dataSync()[0] ?? 0);
  }

  /** Sets the sharpness, clamped to [0, 1]. */
  setSharpness(value: number): void {
    if (this.sharpnessWeight === undefined) throw new Error(`layer ${this.name} is not built yet`);
    const v = Math.min(1, Math.max(0, value));
    const t = tf.scalar(v);
    this.sharpnessWeight.write(t);
    t.dispose();
  }

  /** The smooth activation at width w (a scalar tensor). */
  protected abstract smooth(x: Tensor, width: Tensor): Tensor;

  override call(inputs: Tensor | Tensor[], _kwargs: Kwargs): Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const s = this.sharpnessWeight!.read();
      // The step has no gradient; the smooth branch is used until sharpness reaches exactly 1.
      // Only the branch in use is computed (the same values as tf.where(s ≥ 1, step, smooth),
      // which computed both and broadcast its condition over the whole activation: ~15% of a
      // batch-norm CNN's training step on wasm). Reading the one-number variable costs nothing.
      if ((s.dataSync()[0] ?? 0) >= 1) return tf.cast(tf.greaterEqual(x, this.threshold), 'float32');
      return this.smooth(x, tf.add(tf.sub(1, s), 0.001));
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), sharpness: this.sharpness };
  }
}

/** Bounded ReLU that sharpens into a step at 0.5. */
export class SpikingBRelu extends SpikingActivation {
  static className = 'SpikingBRelu';
  readonly threshold = BRELU_THRESHOLD;

  protected smooth(x: Tensor, width: Tensor): Tensor {
    return tf.clipByValue(tf.add(tf.div(tf.sub(x, 0.5), width), 0.5), 0, 1);
  }
}

/** Sigmoid that sharpens into a step at 0. */
export class SpikingSigmoid extends SpikingActivation {
  static className = 'SpikingSigmoid';
  readonly threshold = SIGMOID_THRESHOLD;

  protected smooth(x: Tensor, width: Tensor): Tensor {
    // Clip the exponent so exp never overflows when the width is tiny.
    const z = tf.clipByValue(tf.mul(tf.div(SIGMOID_K, width), x), -60, 60);
    return tf.sigmoid(z);
  }
}

export type SpikingLayer = SpikingBRelu | SpikingSigmoid;

export function isSpikingLayer(layer: tf.layers.Layer): layer is SpikingLayer {
  return layer instanceof SpikingActivation;
}

export interface SpikeEncoderArgs {
  name?: string;
  /** Image shape (h, w, c), when this is the model's first layer. */
  inputShape?: number[];
  /** Set by deserialization. */
  batchInputShape?: (number | null)[];
  /** A pixel (in [0, 1]) spikes iff it is ≥ this. Defaults to 0.5. */
  threshold?: number;
}

/**
 * Binary input encoding: thresholds pixels into spikes, as spike-only hardware needs.
 * Part of the model, so a saved model and its exported spiking network see the same input.
 */
export class SpikeEncoder extends tf.layers.Layer {
  static className = 'SpikeEncoder';
  readonly threshold: number;

  constructor(args: SpikeEncoderArgs = {}) {
    super({ name: args.name, trainable: false, inputShape: args.inputShape, batchInputShape: args.batchInputShape });
    this.threshold = args.threshold ?? 0.5;
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => tf.cast(tf.greaterEqual(Array.isArray(inputs) ? inputs[0]! : inputs, this.threshold), 'float32'));
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), threshold: this.threshold };
  }
}

tf.serialization.registerClass(SpikingBRelu);
tf.serialization.registerClass(SpikingSigmoid);
tf.serialization.registerClass(SpikeEncoder);
