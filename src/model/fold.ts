/**
 * Exact batch-norm folding. A BatchNormalization right after a conv2d/dense is an affine map per
 * output channel, so it folds into that layer (DESIGN.md, with the layer's own ε inside the root):
 *
 *   W' = W·γ/√(σ² + ε),   b' = (b − μ)·γ/√(σ² + ε) + β
 *
 * Dropout is the identity at inference and is removed. The result is a new model with the same
 * outputs (to float rounding) and no batch-norm or dropout layers: what the spiking network is.
 */
import { tf } from './tf.js';

interface LayerJson {
  class_name: string;
  config: Record<string, unknown>;
}

interface SequentialJson {
  class_name: string;
  config: { name?: string; layers: LayerJson[] };
}

/** Folds the batch norms of a Sequential model into the preceding layers and drops dropout. */
export async function foldBatchNorm(model: tf.LayersModel): Promise<tf.Sequential> {
  const json = model.toJSON(null, false) as unknown as SequentialJson;
  if (json.class_name !== 'Sequential') throw new Error('foldBatchNorm: only Sequential models are supported');
  const layers = model.layers;
  const keptJson: LayerJson[] = [];
  const keptWeights: tf.Tensor[][] = [];
  let carriedInputShape: unknown;

  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]!;
    const lj = json.config.layers[i]!;
    const cls = layer.getClassName();
    if (cls === 'Dropout') {
      // Keep the model's input shape if the dropped layer declared it.
      carriedInputShape ??= lj.config.batch_input_shape;
      continue;
    }
    if (cls === 'BatchNormalization') continue; // folded into the previous layer below
    const config = { ...lj.config };
    if (carriedInputShape !== undefined && config.batch_input_shape === undefined) {
      config.batch_input_shape = carriedInputShape;
      carriedInputShape = undefined;
    }
    let weights = layer.getWeights().map((w) => w.clone());
    const next = layers[i + 1];
    if (next !== undefined && next.getClassName() === 'BatchNormalization') {
      if (cls !== 'Conv2D' && cls !== 'Dense') {
        throw new Error(`foldBatchNorm: ${next.name} follows ${layer.name} (${cls}); it can only fold into Conv2D or Dense`);
      }
      const foldedWeights = foldInto(weights, next, Boolean(config.use_bias));
      weights.forEach((w) => w.dispose());
      weights = foldedWeights;
      config.use_bias = true;
    }
    keptJson.push({ class_name: lj.class_name, config });
    keptWeights.push(weights);
  }

  const folded = (await tf.models.modelFromJSON({
    modelTopology: { ...json, config: { ...json.config, layers: keptJson } },
  } as unknown as tf.io.ModelJSON)) as tf.Sequential;
  folded.layers.forEach((layer, i) => {
    const w = keptWeights[i]!;
    if (w.length > 0) layer.setWeights(w);
  });
  keptWeights.flat().forEach((t) => t.dispose());
  return folded;
}

/** Returns [W', b'] for a conv/dense kernel (output channels on the last axis) and the batch norm after it. */
function foldInto(weights: tf.Tensor[], bn: tf.layers.Layer, hasBias: boolean): tf.Tensor[] {
  const cfg = bn.getConfig() as { epsilon?: number; center?: boolean; scale?: boolean; axis?: number | number[] };
  const axis = Array.isArray(cfg.axis) ? cfg.axis : [cfg.axis ?? -1];
  if (axis.length !== 1 || (axis[0] !== -1 && axis[0] !== weights[0]!.rank - 1 && axis[0] !== 3 && axis[0] !== 1)) {
    throw new Error(`foldBatchNorm: ${bn.name} normalises axis ${JSON.stringify(cfg.axis)}; only the channel axis can be folded`);
  }
  const eps = cfg.epsilon ?? 1e-3;
  // tfjs orders BN weights gamma, beta, moving_mean, moving_variance, omitting gamma/beta when disabled.
  const bnWeights = bn.getWeights();
  let k = 0;
  const units = weights[0]!.shape[weights[0]!.rank - 1]!;
  const gamma = cfg.scale === false ? tf.ones([units]) : bnWeights[k++]!;
  const beta = cfg.center === false ? tf.zeros([units]) : bnWeights[k++]!;
  const mean = bnWeights[k++]!;
  const variance = bnWeights[k++]!;
  return tf.tidy(() => {
    const factor = tf.div(gamma, tf.sqrt(tf.add(variance, eps)));
    const kernel = tf.mul(weights[0]!, factor); // broadcasts over the last (output-channel) axis
    const bias = hasBias ? weights[1]! : tf.zeros([units]);
    const newBias = tf.add(tf.mul(tf.sub(bias, mean), factor), beta);
    return [kernel, newBias];
  });
}
