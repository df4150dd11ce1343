/**
 * Networks "someone already has": built and trained with plain tfjs (no whetstone layers), and
 * saved in the standard layers format the way `model.save('file://…')` would (tfjs without
 * tfjs-node has no file:// handler, so a save handler writes model.json and the weight shards).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../../src/backend/tf.js';
import { identityOrder, loadDataset, normaliseBatch, type Dataset } from '../../src/data/index.js';

/** Saves `model` to `dir` as model.json + `shards` weight files (group1-shardKofN.bin, split by bytes as the converter does). */
export async function saveLayersModel(model: tf.LayersModel, dir: string, shards = 1): Promise<string> {
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData!));
      const size = Math.ceil(data.byteLength / shards);
      const paths: string[] = [];
      for (let k = 0; k < shards; k++) {
        const path = `group1-shard${k + 1}of${shards}.bin`;
        writeFileSync(join(dir, path), data.subarray(k * size, Math.min(data.byteLength, (k + 1) * size)));
        paths.push(path);
      }
      writeFileSync(
        join(dir, 'model.json'),
        JSON.stringify({
          format: 'layers-model',
          generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
          convertedBy: null,
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths, weights: artifacts.weightSpecs }],
        }),
      );
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return join(dir, 'model.json');
}

/** An MNIST subset with its splits as tensors in [0, 1] (no validation split). */
export async function mnistTensors(train: number, test: number): Promise<{ data: Dataset; x: tf.Tensor4D; y: tf.Tensor2D }> {
  const data = await loadDataset({ name: 'mnist', limit: { train, test }, validation: 0 });
  const batch = normaliseBatch(data.train, identityOrder(data.train.count), data.shape);
  const x = tf.tensor4d(batch.x, [batch.count, ...data.shape]);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(batch.y, 'int32'), data.classes) as tf.Tensor2D);
  return { data, x, y };
}

/** A ReLU CNN in the usual Keras style: Conv2D → BatchNormalization → ReLU → MaxPooling2D → Flatten → Dropout → Dense(softmax). */
export function reluCnn(): tf.Sequential {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 3, strides: 2, padding: 'valid', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));
  model.add(tf.layers.batchNormalization({}));
  model.add(tf.layers.reLU({}));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.flatten({}));
  model.add(tf.layers.dropout({ rate: 0.1, seed: 2 }));
  model.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }));
  return model;
}

/** A sigmoid MLP on flat input, as functional model: Input(784) → Dense(64, sigmoid) → Dense(10, softmax). */
export function sigmoidMlp(): tf.LayersModel {
  const input = tf.input({ shape: [784] });
  const hidden = tf.layers.dense({ units: 128, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }).apply(input) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 6 }) }).apply(hidden) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

/** Trains with Adam on (x, y), reshaping x to the model's input; returns nothing, the model is trained in place. */
export async function fitPlain(model: tf.LayersModel, x: tf.Tensor4D, y: tf.Tensor2D, epochs: number): Promise<void> {
  const shape = model.inputs[0]!.shape.slice(1) as number[];
  const input = tf.reshape(x, [x.shape[0], ...shape]);
  model.compile({ optimizer: tf.train.adam(0.005), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  await model.fit(input, y, { epochs, batchSize: 64, shuffle: false, verbose: 0 });
  input.dispose();
}
