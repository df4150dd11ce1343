/**
 * Minimal Keras 3 `.keras` files written from TypeScript (fflate for the zip, h5wasm for the
 * weights), for error and fuzz tests; the exactness fixtures come from
 * test/fixtures/keras-files/generate.py.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { seeded } from './onnx-models.js';

/** A Keras 3 Sequential: Input [784] → Dense(hidden, relu) named `hidden` → Dense(10) named `logits`. */
export function keras3MlpConfig(hidden = 8): Record<string, unknown> {
  const dense = (name: string, units: number, activation: string) => ({
    module: 'keras.layers',
    class_name: 'Dense',
    config: { name, trainable: true, dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null }, units, activation, use_bias: true },
    registered_name: null,
  });
  return {
    module: 'keras',
    class_name: 'Sequential',
    config: {
      name: 'mlp',
      layers: [
        { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, 784], dtype: 'float32', sparse: false, name: 'input_layer' }, registered_name: null },
        dense('hidden', hidden, 'relu'),
        dense('logits', 10, 'linear'),
      ],
    },
    registered_name: null,
  };
}

/** Writes an HDF5 file with h5wasm in a private temporary directory and returns its bytes. */
async function hdf5Bytes(write: (file: InstanceType<typeof import('h5wasm/node').default.File>) => void): Promise<Uint8Array> {
  const h5wasm = (await import('h5wasm/node')).default;
  await h5wasm.ready;
  const dir = mkdtempSync(join(tmpdir(), 'whetstone-h5-fixture-'));
  try {
    const path = join(dir, 'file.h5');
    const file = new h5wasm.File(path, 'w');
    write(file);
    file.close();
    return readFileSync(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The bytes of a `.keras` zip whose weights file holds `arrays[group] = [[shape, values], …]` at layers/<group>/vars/<i>. */
export async function keras3Zip(config: unknown, arrays: Record<string, [number[], Float32Array][]>): Promise<Uint8Array> {
  const weights = await hdf5Bytes((file) => {
    file.create_group('vars');
    const layers = file.create_group('layers');
    for (const [group, list] of Object.entries(arrays)) {
      const vars = layers.create_group(group).create_group('vars');
      list.forEach(([shape, values], i) => vars.create_dataset({ name: String(i), data: values, shape }));
    }
  });
  return zipSync({ 'metadata.json': strToU8('{"keras_version": "3.5.0"}'), 'config.json': strToU8(JSON.stringify(config)), 'model.weights.h5': weights });
}

/** The MLP of keras3MlpConfig with seeded weights; `hiddenKernel` overrides the first kernel's shape. */
export async function keras3Mlp(hiddenKernel: [number, number] = [784, 8]): Promise<Uint8Array> {
  const [k, n] = hiddenKernel;
  return keras3Zip(keras3MlpConfig(8), {
    dense: [[[k, n], seeded(k * n, 1)], [[8], seeded(8, 2)]],
    dense_1: [[[8, 10], seeded(80, 3)], [[10], seeded(10, 4)]],
  });
}

/** A legacy Keras 2 `.h5` of the same MLP (Sequential; model_config + model_weights), written with h5wasm. */
export async function kerasH5Mlp(): Promise<Uint8Array> {
  return hdf5Bytes((file) => {
    const dense = (name: string, units: number, activation: string) => ({ class_name: 'Dense', config: { name, units, activation, use_bias: true, dtype: 'float32' } });
    const config = { class_name: 'Sequential', config: { name: 'mlp', layers: [{ class_name: 'InputLayer', config: { batch_input_shape: [null, 784], name: 'input' } }, dense('dense', 8, 'relu'), dense('dense_1', 10, 'softmax')] } };
    file.create_attribute('model_config', JSON.stringify(config));
    file.create_attribute('keras_version', '2.15.0');
    const weights = file.create_group('model_weights');
    weights.create_attribute('layer_names', ['dense', 'dense_1']);
    for (const [layer, k, n, seed] of [['dense', 784, 8, 1], ['dense_1', 8, 10, 3]] as const) {
      const g = weights.create_group(layer);
      g.create_attribute('weight_names', [`${layer}/kernel:0`, `${layer}/bias:0`]);
      const inner = g.create_group(layer);
      inner.create_dataset({ name: 'kernel:0', data: seeded(k * n, seed), shape: [k, n] });
      inner.create_dataset({ name: 'bias:0', data: seeded(n, seed + 1), shape: [n] });
    }
  });
}
