/**
 * Reading and rewriting models someone already has (src/model/convert): the checked-in Keras
 * fixture (the tensorflowjs converter's form, two shards), calibration, and every refusal.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { initBackend, tf } from '../src/backend/index.js';
import { parseExperiment } from '../src/config/loader.js';
import { calibrate } from '../src/model/convert/calibrate.js';
import { formatProblems, planConversion, type PlanTarget } from '../src/model/convert/plan.js';
import { rewriteModel } from '../src/model/convert/rewrite.js';
import { readSourceModel } from '../src/model/convert/source.js';
import { readModelArtifacts } from '../src/model/io.js';
import { FIXTURE_DIR, fixtureValues, kerasFixture } from './fixtures/keras-cnn/generate.js';
import { cli } from './helpers/cli.js';

const MNIST: PlanTarget = { shape: [28, 28, 1], classes: 10, dataset: 'mnist', inputEncoding: 'binary' };
const FIXTURE = join(FIXTURE_DIR, 'model.json');

let out: string;
beforeAll(async () => {
  await initBackend();
  out = mkdtempSync(join(tmpdir(), 'whetstone-sharpen-convert-'));
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('the Keras-converted fixture', () => {
  it('is exactly what its generator writes', () => {
    const { modelJson, shards } = kerasFixture();
    expect(readFileSync(FIXTURE, 'utf8')).toBe(modelJson);
    shards.forEach((s, i) => expect(new Uint8Array(readFileSync(join(FIXTURE_DIR, `group1-shard${i + 1}of2.bin`)))).toEqual(s));
  });

  it('reads as a Keras functional chain from its two shards', () => {
    const artifacts = readModelArtifacts(FIXTURE);
    expect(artifacts.weightData).toBeInstanceOf(ArrayBuffer);
    const source = readSourceModel(artifacts.modelTopology);
    expect(source.format).toBe('keras');
    expect(source.className).toBe('Functional');
    expect(source.problems).toEqual([]);
    expect(source.inputShape).toEqual([28, 28, 1]);
    expect(source.layers.map((l) => l.name)).toEqual(['conv2d', 'batch_normalization', 'activation', 'max_pooling2d', 'flatten', 'dropout', 'dense', 'dense_1']);
  });

  it('is rewritten for Whetstone keeping every learned weight', async () => {
    const artifacts = readModelArtifacts(FIXTURE);
    const source = readSourceModel(artifacts.modelTopology);
    const { plan, problems } = planConversion(source, MNIST);
    expect(problems).toEqual([]);
    expect(plan!.outputActivation).toBe('sigmoid');
    expect(plan!.layers.map((l) => l.type)).toEqual(['conv2d', 'batch_norm', 'spiking', 'max_pool2d', 'flatten', 'dropout', 'dense', 'spiking']);
    const original = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    const rewritten = await rewriteModel(original, plan!, { shape: [28, 28, 1], classes: 10, inputEncoding: 'binary', inputThreshold: 0.5, neuronsPerClass: 3, overlapping: false, seed: 1 });
    const { model } = rewritten;
    expect(model.layers.map((l) => `${l.name}:${l.getClassName()}`)).toEqual([
      'input_spikes:SpikeEncoder',
      'conv2d:Conv2D',
      'batch_normalization:BatchNormalization',
      'activation:SpikingBRelu',
      'max_pooling2d:MaxPooling2D',
      'flatten:Flatten',
      'dropout:Dropout',
      'dense:Dense',
      'dense_spiking:SpikingSigmoid',
      'output_dense:Dense',
      'output_spiking:SpikingSigmoid',
      'decode:SoftmaxDecode',
    ]);
    expect(model.getLayer('conv2d').getConfig().activation).toBe('linear');
    expect(model.getLayer('dense').getConfig().activation).toBe('linear');
    expect(model.getLayer('output_dense').getConfig().units).toBe(30);
    const values = fixtureValues();
    const weightOf = (name: string) => Array.from(model.weights.find((w) => w.originalName === name)?.read().dataSync() ?? []);
    // tfjs names loaded weights `layer/kernel`, as the manifest does.
    for (const name of ['conv2d/kernel', 'batch_normalization/moving_variance', 'dense/kernel', 'dense/bias']) {
      expect(weightOf(name), name).toEqual(Array.from(values.get(name)!));
    }

    // Calibration: the sigmoid layer's weights are divided by k₀; each output neuron copies its class's logit weights.
    const x = tf.randomUniform([64, 28, 28, 1], 0, 1, 'float32', 3);
    const cal = calibrate(rewritten, plan!, original, x, 1);
    x.dispose();
    const k0 = (4 * Math.log(2 + Math.sqrt(3))) / 1.001;
    expect(cal.layers.map((l) => l.activation)).toEqual(['brelu', 'sigmoid']);
    expect(cal.layers[1]!.scale).toBeCloseTo(1 / k0, 10);
    expect(weightOf('dense/bias')[0]).toBeCloseTo(values.get('dense/bias')![0]! / k0, 6);
    const head = model.getLayer('output_dense').getWeights()[0]!.arraySync() as number[][];
    const source1 = values.get('dense_1/kernel')!;
    for (const [c, row] of rewritten.key.entries()) {
      for (const j of row.flatMap((v, i) => (v === 1 ? [i] : []))) {
        // The copy is gain·W[:, c] plus noise of at most 10% of the column's RMS: correlation near 1.
        const a = head.map((r) => r[j]!);
        const b = Array.from({ length: 16 }, (_, i) => source1[i * 10 + c]!);
        const dot = a.reduce((s, v, i) => s + v * b[i]!, 0);
        const norm = Math.sqrt(a.reduce((s, v) => s + v * v, 0) * b.reduce((s, v) => s + v * v, 0));
        expect(dot / norm).toBeGreaterThan(0.98);
      }
    }
    model.dispose();
    original.dispose();
  });

  it('is sharpened end to end by the CLI; the run directory is a valid experiment that evaluate reads', async () => {
    const r = await cli(['sharpen', FIXTURE, '--data', 'mnist', '--limit', '200', '--key-width', '4', '--out', join(out, 'keras')]);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const runDir = r.stdout.match(/^run +(.+)$/m)![1]!;
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'));
    expect(summary.sharpening_finished).toBe(true);
    expect(summary.source_model).toBe(FIXTURE);
    expect(typeof summary.original_accuracy).toBe('number');
    expect(summary.snn.agrees_with_tfjs).toBe(true);
    const text = readFileSync(join(runDir, 'config.yaml'), 'utf8');
    const parsed = parseExperiment(text, 'config.yaml');
    expect(parsed.errors).toEqual([]);
    expect(parse(text).model.output.neurons_per_class).toBe(4);
    const metadata = JSON.parse(readFileSync(join(runDir, 'metadata.json'), 'utf8'));
    expect(metadata.source_model.format).toBe('keras');
    expect(metadata.source_model.layers.find((l: { source: string }) => l.source === 'dense').became).toEqual(['dense', 'dense_spiking']);
    const evaluated = await cli(['evaluate', runDir, '--json']);
    expect(evaluated.code).toBe(0);
    expect(JSON.parse(evaluated.stdout).accuracy).toBe(summary.snn.accuracy);
  });
});

describe('calibration of a sigmoid layer', () => {
  it('makes the rewritten layer at sharpness 0 compute exactly the source sigmoid', async () => {
    const input = tf.input({ shape: [784] });
    const hidden = tf.layers.dense({ units: 12, activation: 'sigmoid', name: 'hidden', kernelInitializer: tf.initializers.randomNormal({ seed: 1, stddev: 0.2 }) }).apply(input) as tf.SymbolicTensor;
    const logits = tf.layers.dense({ units: 10, activation: 'softmax', name: 'logits' }).apply(hidden) as tf.SymbolicTensor;
    const original = tf.model({ inputs: input, outputs: logits });
    const topology = original.toJSON(null, false);
    const { plan } = planConversion(readSourceModel(topology), { ...MNIST, inputEncoding: 'analog' });
    const rewritten = await rewriteModel(original, plan!, { shape: [28, 28, 1], classes: 10, inputEncoding: 'analog', inputThreshold: 0.5, neuronsPerClass: 2, overlapping: false, seed: 0 });
    const x = tf.randomUniform([32, 28, 28, 1], 0, 1, 'float32', 7);
    calibrate(rewritten, plan!, original, x, 0);
    const sub = tf.model({ inputs: original.inputs, outputs: original.getLayer('hidden').output as tf.SymbolicTensor });
    const expected = sub.predict(x.reshape([32, 784])) as tf.Tensor;
    const probe = tf.model({ inputs: rewritten.model.inputs, outputs: rewritten.model.getLayer('hidden_spiking').output as tf.SymbolicTensor });
    const actual = probe.predict(x) as tf.Tensor;
    const diff = tf.max(tf.abs(tf.sub(expected, actual))).dataSync()[0]!;
    expect(diff).toBeLessThan(1e-5);
    [x, expected, actual].forEach((t) => t.dispose());
  });
});

/** A tfjs-form model topology: a Sequential of (class, config) pairs, the first declaring the input. */
function sequential(inputShape: number[], ...layers: [string, Record<string, unknown>][]) {
  return {
    class_name: 'Sequential',
    config: {
      name: 'seq',
      layers: layers.map(([cls, config], i) => ({ class_name: cls, config: i === 0 ? { ...config, batch_input_shape: [null, ...inputShape] } : config })),
    },
  };
}
const dense = (name: string, units: number, activation = 'linear') => ['Dense', { name, units, activation }] as [string, Record<string, unknown>];
const conv = (name: string, activation = 'relu') => ['Conv2D', { name, filters: 4, kernel_size: [3, 3], strides: [1, 1], padding: 'same', activation }] as [string, Record<string, unknown>];
const flatten = (name = 'flat') => ['Flatten', { name }] as [string, Record<string, unknown>];

/** A functional (Keras 2 form) topology from [name, class, config, inputs]. */
function functional(...layers: [string, string, Record<string, unknown>, string[]][]) {
  return {
    class_name: 'Functional',
    config: {
      name: 'net',
      layers: [
        { class_name: 'InputLayer', name: 'in', config: { name: 'in', batch_input_shape: [null, 28, 28, 1] }, inbound_nodes: [] },
        ...layers.map(([name, cls, config, from]) => ({ class_name: cls, name, config: { name, ...config }, inbound_nodes: [from.map((f) => [f, 0, 0, {}])] })),
      ],
      input_layers: [['in', 0, 0]],
      output_layers: [[layers.at(-1)![0], 0, 0]],
    },
  };
}

function refusal(topology: unknown, target: PlanTarget = MNIST): string {
  const { plan, problems } = planConversion(readSourceModel(topology), target);
  expect(plan).toBeUndefined();
  return formatProblems('model.json', problems);
}

describe('refusals: every offending layer, by name and type, in one message', () => {
  it('a residual addition', () => {
    const message = refusal(
      functional(
        ['c1', 'Conv2D', { filters: 1, kernel_size: 3, padding: 'same', activation: 'relu' }, ['in']],
        ['sum', 'Add', {}, ['c1', 'in']],
        ['f', 'Flatten', {}, ['sum']],
        ['out', 'Dense', { units: 10, activation: 'softmax' }, ['f']],
      ),
    );
    expect(message).toMatch(/^model\.json: cannot sharpen this model: 2 layers have no spiking counterpart$/m);
    expect(message).toContain('  sum (Add): merges 2 branches (c1, in)');
    expect(message).toContain('  in (InputLayer): feeds 2 layers (c1, sum)');
  });

  it('a concatenation', () => {
    const message = refusal(
      functional(
        ['a', 'Conv2D', { filters: 2, kernel_size: 3, padding: 'same', activation: 'relu' }, ['in']],
        ['b', 'Conv2D', { filters: 2, kernel_size: 5, padding: 'same', activation: 'relu' }, ['in']],
        ['cat', 'Concatenate', { axis: -1 }, ['a', 'b']],
        ['f', 'Flatten', {}, ['cat']],
        ['out', 'Dense', { units: 10, activation: 'softmax' }, ['f']],
      ),
    );
    expect(message).toContain('  cat (Concatenate): merges 2 branches (a, b)');
  });

  it('recurrent layers, depthwise convolutions and activations without a spiking counterpart, all at once', () => {
    const message = refusal(
      sequential(
        [28, 28, 1],
        ['DepthwiseConv2D', { name: 'dw', kernel_size: [3, 3], activation: 'relu' }],
        conv('c_tanh', 'tanh'),
        ['Activation', { name: 'act_elu', activation: 'elu' }],
        ['LeakyReLU', { name: 'leaky', alpha: 0.3 }],
        ['Reshape', { name: 'rows', target_shape: [28, 112] }],
        ['LSTM', { name: 'lstm', units: 8 }],
        dense('out', 10, 'softmax'),
      ),
    );
    expect(message.split('\n')[0]).toBe('model.json: cannot sharpen this model: 6 layers have no spiking counterpart');
    expect(message).toContain('  dw (DepthwiseConv2D): is a depthwise convolution');
    expect(message).toContain("  c_tanh (Conv2D): activation 'tanh' has no spiking counterpart");
    expect(message).toContain("  act_elu (Activation): activation 'elu' has no spiking counterpart");
    expect(message).toContain("  leaky (LeakyReLU): activation 'leaky_relu' has no spiking counterpart");
    expect(message).toContain('  rows (Reshape): has no spiking equivalent');
    expect(message).toContain('  lstm (LSTM): is recurrent');
  });

  it('an input shape that does not match the dataset', () => {
    const message = refusal(sequential([32, 32, 3], conv('c'), flatten(), dense('out', 10, 'softmax')));
    expect(message).toContain('c (Conv2D): input shape 32×32×3 does not match the dataset mnist (28×28×1 images, or 784 values flattened)');
  });

  it('accepts the flat and 2-D input forms of the same images', () => {
    for (const shape of [[784], [28, 28], [null, null, 1]] as number[][]) {
      const { plan, problems } = planConversion(readSourceModel(sequential(shape, flatten(), dense('h', 32, 'relu'), dense('out', 10))), MNIST);
      expect(problems, JSON.stringify(shape)).toEqual([]);
      expect(plan!.steps[0]!.op === 'input_flatten').toBe(shape.length === 1);
    }
  });

  it('a classifier for another number of classes, a sigmoid head, a missing activation, batch norm after an activation', () => {
    expect(refusal(sequential([784], dense('h', 32, 'relu'), dense('out', 5, 'softmax')))).toContain('out (Dense): outputs 5 classes but the dataset mnist has 10');
    expect(refusal(sequential([784], dense('h', 32, 'relu'), dense('out', 10, 'sigmoid')))).toContain("out (Dense): classifier activation 'sigmoid': expected softmax (or linear logits)");
    expect(refusal(sequential([784], dense('h', 32), dense('out', 10, 'softmax')))).toContain('h (Dense): has no activation before the classifier out');
    expect(refusal(sequential([784], dense('h', 32, 'relu'), ['BatchNormalization', { name: 'bn', axis: -1 }], dense('out', 10, 'softmax')))).toContain(
      'bn (BatchNormalization): must directly follow a Conv2D or Dense without activation',
    );
  });

  it('through the CLI: exit 2, one message on stderr, nothing written', async () => {
    const dir = join(out, 'bad-model');
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    const topology = sequential([28, 28, 1], conv('c1', 'tanh'), flatten(), ['GRU', { name: 'gru', units: 4 }], dense('out', 10, 'softmax'));
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ format: 'layers-model', modelTopology: topology, weightsManifest: [] }));
    const runs = join(out, 'refused-runs');
    const r = await cli(['sharpen', join(dir, 'model.json'), '--data', 'mnist', '--limit', '100', '--out', runs]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('error'));
    expect(errors[0]).toContain('model.json: cannot sharpen this model: 2 layers have no spiking counterpart');
    expect(r.stderr).toContain("c1 (Conv2D): activation 'tanh'");
    expect(r.stderr).toContain('gru (GRU): is recurrent');
    expect(r.stderr).not.toMatch(/backend:/); // refused before tfjs was started
    expect(existsSync(runs)).toBe(false);
  });

  it('a file that is not a layers model', async () => {
    const r = await cli(['sharpen', join(out, 'missing.json'), '--data', 'mnist']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing\.json: cannot read model/);
  });
});
