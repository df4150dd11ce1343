import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExperiment } from '../src/config/loader.js';
import { buildModel, checkLayers } from '../src/model/builder.js';
import { foldBatchNorm } from '../src/model/fold.js';
import { loadModel, saveModel } from '../src/model/io.js';
import { decodeSpikes, generateKey } from '../src/model/key.js';
import { SoftmaxDecode } from '../src/model/layers/decode.js';
import { SpikingBRelu, SpikingSigmoid } from '../src/model/layers/spiking.js';
import { tf } from '../src/model/tf.js';
import { InputError } from '../src/errors.js';

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'whetstone-model-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function modelConfig(yaml: string) {
  const r = parseExperiment(yaml, 'test.yaml');
  if (!r.config) throw new Error(r.errors.map((e) => e.message).join('; '));
  return r.config.model;
}

function apply(layer: tf.layers.Layer, values: number[]): number[] {
  return Array.from((layer.apply(tf.tensor2d([values])) as tf.Tensor).dataSync());
}

describe('spiking activations', () => {
  const xs = [-1, 0, 0.2, 0.4999, 0.5, 0.6, 1, 2];

  it('bounded ReLU is an exact step at 0.5 when sharpness is 1', () => {
    const layer = new SpikingBRelu({ sharpness: 1 });
    expect(apply(layer, xs)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
  });

  it('bounded ReLU at sharpness 0 is the clipped identity, and narrows as it sharpens', () => {
    const layer = new SpikingBRelu({ sharpness: 0 });
    const y = apply(layer, [0.25, 0.5, 0.75]);
    // width = 1.001: y = (x − 0.5)/1.001 + 0.5
    expect(y[0]).toBeCloseTo(0.5 - 0.25 / 1.001, 6);
    expect(y[1]).toBeCloseTo(0.5, 6);
    layer.setSharpness(0.5);
    const y2 = apply(layer, [0.6]);
    expect(y2[0]).toBeCloseTo(0.5 + 0.1 / 0.501, 5);
    expect(layer.sharpness).toBe(0.5);
  });

  it('sigmoid is an exact step at 0 when sharpness is 1 and 1/(1+e^(−kx)) before', () => {
    const layer = new SpikingSigmoid({ sharpness: 1 });
    expect(apply(layer, [-1, -1e-6, 0, 1e-6, 3])).toEqual([0, 0, 1, 1, 1]);
    const soft = new SpikingSigmoid({ sharpness: 0 });
    const k = (4 * Math.log(2 + Math.sqrt(3))) / 1.001;
    expect(apply(soft, [0.3])[0]).toBeCloseTo(1 / (1 + Math.exp(-k * 0.3)), 5);
  });

  it('the step passes no gradient; the smooth activation does', () => {
    const step = new SpikingBRelu({ sharpness: 1 });
    const smooth = new SpikingBRelu({ sharpness: 0.5 });
    const x = tf.tensor2d([[0.45, 0.55]]);
    const g1 = tf.grad((t: tf.Tensor) => (step.apply(t) as tf.Tensor).sum())(x).dataSync();
    const g2 = tf.grad((t: tf.Tensor) => (smooth.apply(t) as tf.Tensor).sum())(x).dataSync();
    expect(Array.from(g1)).toEqual([0, 0]);
    expect(g2[0]).toBeCloseTo(1 / 0.501, 4);
  });
});

describe('output key and decoding', () => {
  it('non-overlapping keys give each class exactly n neurons, disjoint, seeded', () => {
    const key = generateKey({ classes: 10, neuronsPerClass: 4, overlapping: false, seed: 3 });
    expect(key).toHaveLength(10);
    expect(key[0]).toHaveLength(40);
    const columnSums = key[0]!.map((_, j) => key.reduce((s, row) => s + row[j]!, 0));
    expect(columnSums.every((s) => s === 1)).toBe(true);
    expect(key.every((row) => row.reduce((a, b) => a + b, 0) === 4)).toBe(true);
    expect(generateKey({ classes: 10, neuronsPerClass: 4, overlapping: false, seed: 3 })).toEqual(key);
    expect(generateKey({ classes: 10, neuronsPerClass: 4, overlapping: false, seed: 4 })).not.toEqual(key);
  });

  it('overlapping keys are distinct n-hot codes of the given width', () => {
    const key = generateKey({ classes: 10, neuronsPerClass: 3, width: 12, overlapping: true, seed: 1 });
    expect(new Set(key.map((r) => r.join(''))).size).toBe(10);
    expect(key.every((row) => row.length === 12 && row.reduce((a, b) => a + b, 0) === 3)).toBe(true);
    expect(() => generateKey({ classes: 10, neuronsPerClass: 3, width: 12, overlapping: false, seed: 1 })).toThrow(InputError);
  });

  it('decodes spikes by the signed key, ties to the lowest class', () => {
    const key = [
      [1, 1, 0, 0],
      [0, 0, 1, 1],
      [0, 1, 1, 0],
    ];
    expect(decodeSpikes(key, [0, 0, 1, 1])).toBe(1);
    expect(decodeSpikes(key, [1, 1, 0, 0])).toBe(0);
    expect(decodeSpikes(key, [0, 0, 0, 0])).toBe(0); // all tie at 0 → lowest index
    expect(decodeSpikes(key, [0, 1, 1, 1])).toBe(1); // class 1 and 2 score 2, class 0 scores 0 → 1
  });

  it('SoftmaxDecode agrees with the readout', () => {
    const key = generateKey({ classes: 5, neuronsPerClass: 2, overlapping: false, seed: 9 });
    const layer = new SoftmaxDecode({ key });
    const spikes = [1, 0, 0, 1, 1, 0, 0, 0, 1, 1];
    const p = apply(layer, spikes);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(p.indexOf(Math.max(...p))).toBe(decodeSpikes(key, spikes));
  });

  it('SoftmaxDecode with a temperature divides the logits by it, keeps the readout, and survives save/reload', async () => {
    const key = generateKey({ classes: 4, neuronsPerClass: 3, overlapping: false, seed: 5 });
    const spikes = [1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1];
    const logits = key.map((row) => row.reduce((sum, k, j) => sum + (2 * k - 1) * (2 * spikes[j]! - 1), 0));
    const softmax = (z: number[]) => {
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const total = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / total);
    };
    const cold = apply(new SoftmaxDecode({ key }), spikes);
    const warm = apply(new SoftmaxDecode({ key, temperature: 3 }), spikes);
    softmax(logits).forEach((v, i) => expect(cold[i]).toBeCloseTo(v, 5));
    softmax(logits.map((v) => v / 3)).forEach((v, i) => expect(warm[i]).toBeCloseTo(v, 5));
    expect(Math.max(...warm)).toBeLessThan(Math.max(...cold));
    expect(warm.indexOf(Math.max(...warm))).toBe(decodeSpikes(key, spikes));
    expect(() => new SoftmaxDecode({ key, temperature: 0 })).toThrow(/temperature must be a positive number/);

    const config = modelConfig('model:\n  layers:\n    - {type: flatten}\n    - {type: dense, units: 8}\n    - {type: spiking}\n  output: {neurons_per_class: 3, temperature: 2.5}\n');
    const { model } = buildModel(config, { inputShape: [2, 2, 1], classes: 2, seed: 1 });
    await saveModel(model, join(dir, 'warm'));
    const reloaded = await loadModel(join(dir, 'warm'));
    expect((reloaded.getLayer('decode') as SoftmaxDecode).temperature).toBe(2.5);
    const plain = buildModel(modelConfig('model:\n  layers:\n    - {type: flatten}\n    - {type: dense, units: 8}\n    - {type: spiking}\n'), { inputShape: [2, 2, 1], classes: 2, seed: 1 });
    expect(plain.model.getLayer('decode').getConfig()).not.toHaveProperty('temperature');
    const bad = parseExperiment('model:\n  layers:\n    - {type: flatten}\n  output: {temperature: 0}\n', 'test.yaml');
    expect(bad.errors.map((e) => `${e.path}: ${e.message}`)).toEqual(['model.output.temperature: must be > 0, got 0']);
  });
});

describe('model building', () => {
  it('rejects stacks a spiking network cannot represent, naming the layer', () => {
    const shape = [28, 28, 1] as const;
    const check = (yaml: string) => () => checkLayers(modelConfig(yaml).layers, shape);
    expect(check('model:\n  layers:\n    - {type: dense, units: 8}\n    - {type: spiking}\n')).toThrow(/model.layers.0 \(dense\): needs a flat input/);
    expect(check('model:\n  layers:\n    - {type: flatten}\n    - {type: dense, units: 8}\n')).toThrow(/model.layers.1 \(dense\): needs a spiking layer after it/);
    expect(check('model:\n  layers:\n    - {type: flatten}\n    - {type: dense, units: 8}\n    - {type: spiking}\n    - {type: batch_norm}\n')).toThrow(/model.layers.3 \(batch_norm\): must directly follow/);
    expect(check('model:\n  layers:\n    - {type: conv2d, filters: 2, kernel_size: 30, padding: valid}\n')).toThrow(/does not fit/);
    expect(check('model:\n  layers:\n    - {type: conv2d, filters: 4}\n    - {type: spiking}\n')).toThrow(/add \{type: flatten\}/);
  });

  it('builds a seeded model whose last spiking layer has the key width', () => {
    const config = modelConfig('model:\n  layers:\n    - {type: flatten}\n    - {type: dense, units: 16}\n    - {type: spiking}\n  output: {neurons_per_class: 3}\n');
    const a = buildModel(config, { inputShape: [4, 4, 1], classes: 3, seed: 1 });
    const b = buildModel(config, { inputShape: [4, 4, 1], classes: 3, seed: 1 });
    expect(a.spikingLayers).toHaveLength(2);
    expect(a.model.outputs[0]!.shape).toEqual([null, 3]);
    expect(a.key[0]).toHaveLength(9);
    expect(Array.from(a.model.getWeights()[0]!.dataSync())).toEqual(Array.from(b.model.getWeights()[0]!.dataSync()));
  });
});

describe('batch-norm folding and model files', () => {
  const yaml = `model:
  input_encoding: analog
  layers:
    - {type: conv2d, filters: 3, kernel_size: 3, use_bias: false}
    - {type: batch_norm, epsilon: 0.01}
    - {type: spiking}
    - {type: max_pool2d}
    - {type: dropout, rate: 0.3}
    - {type: flatten}
    - {type: dense, units: 7}
    - {type: batch_norm}
    - {type: spiking}
  output: {neurons_per_class: 2, batch_norm: true}
`;

  async function trainedWithBatchNorm() {
    const built = buildModel(modelConfig(yaml), { inputShape: [6, 5, 2], classes: 3, seed: 7 });
    // Give every batch norm non-trivial statistics, as training would.
    for (const layer of built.model.layers) {
      if (layer.getClassName() === 'BatchNormalization') {
        const n = layer.getWeights()[0]!.shape[0]!;
        const r = (lo: number, hi: number) => tf.randomUniform([n], lo, hi, 'float32', 5);
        layer.setWeights([r(0.5, 2), r(-0.5, 0.5), r(-0.3, 0.3), r(0.2, 3)]);
      }
    }
    return built;
  }

  it('folded and unfolded models give the same outputs (≤ 1e-5) at every sharpness', async () => {
    const { model, spikingLayers } = await trainedWithBatchNorm();
    const x = tf.randomUniform([16, 6, 5, 2], 0, 1, 'float32', 11);
    for (const s of [0.3, 1]) {
      spikingLayers.forEach((l) => l.setSharpness(s));
      const folded = await foldBatchNorm(model);
      expect(folded.layers.map((l) => l.getClassName())).not.toContain('BatchNormalization');
      expect(folded.layers.map((l) => l.getClassName())).not.toContain('Dropout');
      // Compare the last spiking layer's input (pre-activation), the most sensitive place.
      const pre = (m: tf.LayersModel) => {
        const names = m.layers.map((l) => l.name);
        const target = m.getLayer(names[names.indexOf('output_spiking') - 1]!);
        return tf.model({ inputs: m.inputs, outputs: target.output as tf.SymbolicTensor }).predict(x) as tf.Tensor;
      };
      const diff = tf.max(tf.abs(tf.sub(pre(model), pre(folded)))).dataSync()[0]!;
      expect(diff).toBeLessThanOrEqual(1e-5);
      const out = tf.max(tf.abs(tf.sub(model.predict(x) as tf.Tensor, folded.predict(x) as tf.Tensor))).dataSync()[0]!;
      expect(out).toBeLessThanOrEqual(1e-5);
    }
  });

  it('saves and reloads with stock tf.loadLayersModel, keeping sharpness and key', async () => {
    const { model, spikingLayers, key } = await trainedWithBatchNorm();
    spikingLayers.forEach((l, i) => l.setSharpness(i === 0 ? 1 : 0.25));
    await saveModel(model, join(dir, 'm1'));
    const json = JSON.parse(readFileSync(join(dir, 'm1', 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    const reloaded = await loadModel(join(dir, 'm1'));
    const x = tf.randomUniform([4, 6, 5, 2], 0, 1, 'float32', 2);
    const diff = tf.max(tf.abs(tf.sub(model.predict(x) as tf.Tensor, reloaded.predict(x) as tf.Tensor))).dataSync()[0]!;
    expect(diff).toBe(0);
    const reloadedSpiking = reloaded.layers.filter((l) => l instanceof SpikingBRelu) as SpikingBRelu[];
    expect(reloadedSpiking.map((l) => l.sharpness)).toEqual([1, 0.25, 0.25]);
    expect((reloaded.getLayer('decode') as SoftmaxDecode).key).toEqual(key);
  });

  it('a truncated weights.bin is a one-line input error', async () => {
    const { model } = await trainedWithBatchNorm();
    await saveModel(model, join(dir, 'm2'));
    const bin = readFileSync(join(dir, 'm2', 'weights.bin'));
    writeFileSync(join(dir, 'm2', 'weights.bin'), bin.subarray(0, bin.length - 8));
    await expect(loadModel(join(dir, 'm2'))).rejects.toThrow(/weights.bin: \d+ bytes, but the weight manifest in model.json describes \d+/);
  });
});

describe('optimizers', () => {
  it('adadelta follows Zeiler/Keras: the first step is tiny, not a plain SGD step', async () => {
    const { createOptimizer } = await import('../src/train/optimizer.js');
    const w = tf.variable(tf.tensor1d([1, -2, 3]));
    const opt = createOptimizer({ name: 'adadelta', learning_rate: 4 });
    opt.minimize(() => tf.sum(tf.square(w)) as tf.Scalar);
    // g = 2w; E[g²] = 0.05·g²; Δ = √ε/√(0.05·g² + ε)·g ≈ √(1e-7/0.05) = 1.414e-3 in the direction of g.
    const expected = [1, -2, 3].map((v) => v - 4 * Math.sign(v) * Math.sqrt(1e-7) / Math.sqrt(0.05 * 4 * v * v + 1e-7) * 2 * Math.abs(v));
    Array.from(w.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    const weights = await opt.getWeights();
    expect(weights.map((x) => x.name).slice(1)).toEqual(expect.arrayContaining([expect.stringMatching(/accum_grad$/), expect.stringMatching(/accum_var$/)]));
  });
});
