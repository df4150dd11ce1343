/**
 * Small models and synthetic data for the backend tests and the speed measurement.
 */
import { tf } from '../../src/backend/index.js';
import { SeededRandom } from '../../src/util/random.js';

/** Seeded glorot init, so a model is identical on every backend and every run. */
function init(seed: number) {
  return tf.initializers.glorotUniform({ seed });
}

/** conv 3x3x8 → maxpool → conv 3x3x16 → flatten → dense 10 softmax (the brief's small CNN). */
export function smallCnn(size: number, seed = 1): tf.Sequential {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [size, size, 1], filters: 8, kernelSize: 3, activation: 'relu', kernelInitializer: init(seed) }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', kernelInitializer: init(seed + 1) }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(seed + 2) }));
  return m;
}

/**
 * Every layer kind our training uses: strided 'same' conv, batch norm, max and average pooling,
 * sigmoid, relu6 (a clip), optional dropout, dense, softmax.
 */
export function layerZoo(size: number, withDropout: boolean, seed = 7): tf.Sequential {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [size, size, 3], filters: 8, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: init(seed) }));
  m.add(tf.layers.batchNormalization());
  // relu after batch norm, not before: relu-then-BN maps every 0 to one shared value, and the max
  // pool that follows then has exact ties, which cpu and wasm break differently (both valid).
  m.add(tf.layers.activation({ activation: 'relu' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2, padding: 'same' }));
  m.add(tf.layers.conv2d({ filters: 8, kernelSize: 5, padding: 'same', activation: 'sigmoid', kernelInitializer: init(seed + 1) }));
  m.add(tf.layers.averagePooling2d({ poolSize: 2 }));
  if (withDropout) m.add(tf.layers.dropout({ rate: 0.3, seed }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 16, activation: 'relu6', kernelInitializer: init(seed + 2) }));
  m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(seed + 3) }));
  return m;
}

/** The MNIST-sized CNN used for speed measurements. */
export function mnistCnn(seed = 3): tf.Sequential {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: init(seed) }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: init(seed + 1) }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: init(seed + 2) }));
  m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(seed + 3) }));
  return m;
}

/** Synthetic images as plain arrays (so they can be turned into tensors on any backend). */
export interface SyntheticSet {
  images: Float32Array;
  shape: [number, number, number, number];
  labels: Int32Array;
  classes: number;
}

/**
 * `classes` random template images; each sample is its class template plus heavy noise
 * (noise std ≈ template std), so classes are learnable but not given away by one pixel.
 * Same `seed`, different `sampleSeed`: fresh samples of the same classes (a test set).
 */
export function templateImages(
  n: number,
  size: number,
  channels: number,
  classes: number,
  seed: number,
  sampleSeed = seed + 1,
): SyntheticSet {
  // Templates come from `seed` alone, so sets drawn with other sample seeds share the classes.
  const tRng = new SeededRandom(seed);
  const px = size * size * channels;
  const templates = Array.from({ length: classes }, () => Float32Array.from({ length: px }, () => tRng.next()));
  const rng = new SeededRandom(sampleSeed);
  const images = new Float32Array(n * px);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = rng.int(classes);
    labels[i] = c;
    const t = templates[c]!;
    for (let j = 0; j < px; j++) images[i * px + j] = t[j]! + (rng.next() - 0.5);
  }
  return { images, shape: [n, size, size, channels], labels, classes };
}

/** Tensors for a synthetic set on the current backend: x and one-hot y over `depth` outputs. */
export function toTensors(set: SyntheticSet, depth = 10): { x: tf.Tensor4D; y: tf.Tensor2D } {
  return {
    x: tf.tensor4d(set.images, set.shape),
    y: tf.oneHot(tf.tensor1d(set.labels, 'int32'), depth).toFloat() as tf.Tensor2D,
  };
}
