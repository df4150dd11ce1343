/**
 * `whetstone export`, proved with real readers and a real simulator:
 * - NIR: read back with h5wasm; structure, exact field sets and edge types checked from Python
 *   (h5py, the reference reader's rules); a NumPy forward pass over the graph reproduces the
 *   simulator's predictions — for a trained dense network and a hand-built CNN (conv, OR pool,
 *   flatten: the CHW permutations), with Threshold and with IF neurons.
 * - SpiNNaker: the generated PyNN script runs on Brian 2 (Debian python3-pynn + python3-brian) and
 *   predicts, image for image, what the simulator predicts.
 * - Loihi: netx layout via h5py; an integer forward pass over the exported weights reproduces the
 *   quantized network's simulator predictions; the Lava script compiles.
 * - JSON: the artifact reloads identically; refusals are one line, exit 2, nothing written.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetSpecFromConfig } from '../src/config/dataset-spec.js';
import { loadExperiment } from '../src/config/loader.js';
import { loadDataset, type Dataset } from '../src/data/index.js';
import { encodeNpy } from '../src/export/npy.js';
import { loadArtifact, predictSpiking, quantizeNetwork, writeArtifact, type SpikingNetwork } from '../src/snn/index.js';
import { trainExperiment } from '../src/train/index.js';
import { SeededRandom } from '../src/util/random.js';
import { cli } from './helpers/cli.js';
import { conv, dense, nHotKey, orPool, smallCnn } from './helpers/snn-networks.js';

/** Debian's interpreter: python3-h5py, -numpy, -pynn and -brian live in its dist-packages. */
const PYTHON = process.env.WHETSTONE_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const HERE = new URL('.', import.meta.url).pathname;
const TEST_IMAGES = 200;

function python(args: string[], cwd?: string): string {
  return execFileSync(PYTHON, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
}
const pyJson = (args: string[], cwd?: string) => JSON.parse(python(args, cwd).trim().split('\n').at(-1)!) as Record<string, unknown>;

let dir: string;
let runDir: string;
let data: Dataset;
let network: SpikingNetwork;
let expected: number[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'whetstone-export-'));
  const config = join(dir, 'tiny.yaml');
  writeFileSync(
    config,
    `name: export-tiny
seed: 3
dataset: {name: mnist, limit: {train: 1500, test: ${TEST_IMAGES}}, validation: 0.1}
model:
  layers:
    - {type: flatten}
    - {type: dense, units: 48}
    - {type: spiking}
  output: {neurons_per_class: 4}
training: {epochs: 5, batch_size: 64, optimizer: {name: adam, learning_rate: 0.003}}
sharpening: {schedule: simple, order: bottom_up, start_epoch: 2, steps: 30, per: batch}
`,
  );
  const run = await trainExperiment(config, { outDir: join(dir, 'runs'), backend: 'wasm' });
  runDir = run.runDir;
  data = await loadDataset(datasetSpecFromConfig(loadExperiment(join(runDir, 'config.yaml')).config));
  network = loadArtifact(runDir);
  expected = Array.from(predictSpiking(network, data.test));
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The first n test images as a uint8 (n, H, W, C) .npy for the Python checks. */
function imagesNpy(images: Uint8Array, shape: readonly number[], n: number, name: string): string {
  const path = join(dir, name);
  const pixels = shape.reduce((a, b) => a * b, 1);
  writeFileSync(path, encodeNpy({ dtype: '|u1', data: images.slice(0, n * pixels) }, [n, ...shape]));
  return path;
}

/** A trained network's accuracy must be far from chance for the comparisons to mean anything. */
function accuracy(pred: number[], labels: Uint8Array): number {
  return pred.filter((p, i) => p === labels[i]).length / pred.length;
}

describe('NIR', () => {
  it('writes the graph the reference reader needs; h5wasm reads it back', async () => {
    const r = await cli(['export', runDir, '--target', 'nir']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const file = join(runDir, 'export', 'nir', 'network.nir');
    const h5wasm = (await import('h5wasm/node')).default;
    await h5wasm.ready;
    const f = new h5wasm.File(file, 'r');
    try {
      expect((f.get('version') as InstanceType<typeof h5wasm.Dataset>).value).toBe('1.0.0');
      const graph = f.get('node') as InstanceType<typeof h5wasm.Group>;
      expect((graph.get('type') as InstanceType<typeof h5wasm.Dataset>).value).toBe('NIRGraph');
      const nodes = graph.get('nodes') as InstanceType<typeof h5wasm.Group>;
      expect(nodes.keys()).toEqual(expect.arrayContaining(['input', 'output']));
      expect(nodes.keys()).toHaveLength(2 + 1 + 2 * network.layers.filter((l) => l.type === 'dense').length);
      const edges = graph.get('edges') as InstanceType<typeof h5wasm.Dataset>;
      expect(edges.shape).toEqual([network.layers.filter((l) => l.type !== 'flatten').length * 2 + 2, 2]);
      const first = network.layers[1]!;
      if (first.type !== 'dense') throw new Error('expected flatten, dense');
      const w = nodes.get(`${first.name}_affine/weight`) as InstanceType<typeof h5wasm.Dataset>;
      expect(w.shape).toEqual([first.units, first.inputSize]);
      // (out, in) with the input in CHW order: for a 1-channel image CHW = HWC, so W[j][i] is the kernel's [i][j].
      const values = w.value as Float32Array;
      expect(values[3 * first.inputSize + 200]).toBe(first.weights[200 * first.units + 3]);
      expect((nodes.get('input/shape') as InstanceType<typeof h5wasm.Dataset>).value).toEqual(new BigInt64Array([1n, 28n, 28n]));
    } finally {
      f.close();
    }
    expect(readdirSync(join(runDir, 'export', 'nir')).sort()).toEqual(['README.md', 'export.json', 'network.nir']);
  });

  it('passes the reader checks in Python, and a NumPy forward pass reproduces the simulator on every test image', () => {
    const images = imagesNpy(data.test.images, data.shape, TEST_IMAGES, 'mnist.npy');
    const out = pyJson([join(HERE, 'python', 'check_nir.py'), join(runDir, 'export', 'nir', 'network.nir'), images]);
    expect(out.errors).toEqual([]);
    expect(out.types).toEqual(['Input', 'Flatten', 'Affine', 'Threshold', 'Affine', 'Threshold', 'Output']);
    expect(out.predictions).toEqual(expected);
    expect(accuracy(expected, data.test.labels)).toBeGreaterThan(0.6);
  });

  it('--neuron if: IF nodes, one step from rest, reproduce the memoryless neuron', async () => {
    const out = join(dir, 'nir-if');
    const r = await cli(['export', runDir, '--target', 'nir', '--neuron', 'if', '--out', out]);
    expect(r.code).toBe(0);
    const images = imagesNpy(data.test.images, data.shape, TEST_IMAGES, 'mnist.npy');
    const check = pyJson([join(HERE, 'python', 'check_nir.py'), join(out, 'network.nir'), images]);
    expect(check.errors).toEqual([]);
    expect(check.types).toEqual(['Input', 'Flatten', 'Affine', 'IF', 'Affine', 'IF', 'Output']);
    expect(check.predictions).toEqual(expected);
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain('one** simulation step');
  });

  it('a CNN (conv, OR pool, flatten): CHW permutations are right, image for image', async () => {
    const rng = new SeededRandom(11);
    const c1 = conv(rng, 'c1', [28, 28, 1], 4, [3, 3], [1, 1], 'valid');
    const p1 = orPool('p1', c1.outputShape, [2, 2], [2, 2], 'valid');
    const c2 = conv(rng, 'c2', p1.outputShape, 3, [3, 3], [1, 1], 'same', 0);
    const flat = c2.outputShape[0] * c2.outputShape[1] * c2.outputShape[2];
    const cnn: SpikingNetwork = {
      name: 'hand-cnn',
      input: { shape: [28, 28, 1], encoding: 'binary', threshold: 0.5 },
      layers: [c1, p1, c2, { type: 'flatten', name: 'f', inputShape: c2.outputShape, order: 'hwc' }, dense(rng, 'd', flat, 20)],
      output: { key: nHotKey(10, 2), classNames: [...'0123456789'] },
    };
    writeArtifact(join(dir, 'cnn'), cnn);
    const r = await cli(['export', join(dir, 'cnn', 'network.json'), '--target', 'nir']);
    expect(r.code).toBe(0);
    const images = imagesNpy(data.test.images, data.shape, 100, 'mnist100.npy');
    const check = pyJson([join(HERE, 'python', 'check_nir.py'), join(dir, 'cnn', 'export-nir', 'network.nir'), images]);
    expect(check.errors).toEqual([]);
    expect(check.types).toEqual(['Input', 'Conv2d', 'Threshold', 'SumPool2d', 'Threshold', 'Conv2d', 'Threshold', 'Flatten', 'Affine', 'Threshold', 'Output']);
    const want = Array.from(predictSpiking(cnn, { images: data.test.images, labels: data.test.labels, count: 100 }));
    expect(new Set(want).size).toBeGreaterThan(1); // not a constant answer
    expect(check.predictions).toEqual(want);

    // Loihi: the same CNN as netx (pool folded into a conv), integers reproduce the quantized network.
    const l = await cli(['export', join(dir, 'cnn', 'network.json'), '--target', 'loihi', '--data', 'mnist', '--limit', '100', '--samples', '100']);
    expect(l.stderr).toBe('');
    expect(l.code).toBe(0);
    const netx = pyJson([join(HERE, 'python', 'check_netx.py'), join(dir, 'cnn', 'export-loihi')]);
    expect(netx.errors).toEqual([]);
    expect((netx.layers as { type: string }[]).map((x) => x.type)).toEqual(['input', 'conv', 'conv', 'conv', 'flatten', 'dense']);
    const quantized = quantizeNetwork(cnn, 8).network;
    expect(netx.predictions).toEqual(Array.from(predictSpiking(quantized, { images: data.test.images, labels: data.test.labels, count: 100 })));
  });

  it('refuses padding NIR cannot express, in one line, writing nothing', async () => {
    writeArtifact(join(dir, 'asym'), smallCnn(1));
    const r = await cli(['export', join(dir, 'asym', 'network.json'), '--target', 'nir']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/asym\/network\.json: layer c1: padding 0 before and 1 after along columns cannot be represented by NIR/);
    expect(existsSync(join(dir, 'asym', 'export-nir'))).toBe(false);
    expect(readdirSync(join(dir, 'asym')).sort()).toEqual(['network.json', 'weights.bin']);
  });
});

describe('SpiNNaker (PyNN)', () => {
  it('the generated script, run on Brian 2, predicts what the simulator predicts on 25 test images', async () => {
    const out = join(dir, 'spinnaker');
    const r = await cli(['export', runDir, '--target', 'spinnaker', '--simulator', 'brian2', '--samples', '25', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const result = pyJson(['run_pynn.py', '--simulator', 'brian2'], out);
    expect(result.samples).toBe(25);
    expect(result.predictions).toEqual(expected.slice(0, 25));
    expect(result.agreement_with_whetstone_simulator).toBe(25);
    expect(result.labels).toEqual(Array.from(data.test.labels.slice(0, 25)));
    const script = readFileSync(join(out, 'run_pynn.py'), 'utf8');
    expect(script).toContain('default="brian2"');
    expect(script).toContain('IF_curr_delta');
    expect(script).toContain('FromListConnector');
  }, 120_000);

  it('refuses analog input (a SpikeSourceArray carries spikes only)', async () => {
    writeArtifact(join(dir, 'analog'), { ...smallCnn(2, 'analog'), name: 'analog' });
    const r = await cli(['export', join(dir, 'analog'), '--target', 'spinnaker', '--data', 'mnist']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/has analog input; a SpikeSourceArray carries spikes only/);
  });
});

describe('Loihi (netx + Lava)', () => {
  it('writes a netx file with even 8-bit weights, reports the quantized accuracy, and the Lava script compiles', async () => {
    const r = await cli(['export', runDir, '--target', 'loihi', '--json']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { outDir: string; details: { accuracy: number; float_accuracy: number; images: number } };
    const q = quantizeNetwork(network, 8).network;
    const qPred = Array.from(predictSpiking(q, data.test));
    expect(result.details.accuracy).toBe(accuracy(qPred, data.test.labels));
    expect(result.details.float_accuracy).toBe(accuracy(expected, data.test.labels));
    const check = pyJson([join(HERE, 'python', 'check_netx.py'), result.outDir]);
    expect(check.errors).toEqual([]);
    expect((check.layers as { type: string }[]).map((l) => l.type)).toEqual(['input', 'flatten', 'dense', 'dense']);
    expect(check.predictions).toEqual(qPred.slice(0, 100));
    python(['-m', 'py_compile', join(result.outDir, 'run_lava.py')]);
  });

  it('refuses more than 8-bit weights', async () => {
    const r = await cli(['export', runDir, '--target', 'loihi', '--weight-bits', '12']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Loihi synapses hold at most 8-bit weights/);
  });
});

describe('JSON and the command', () => {
  it('exports the artifact with a schema; it reloads identically', async () => {
    const r = await cli(['export', runDir, '--target', 'json']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/exported export-tiny/);
    const out = join(runDir, 'export', 'json');
    expect(loadArtifact(join(out, 'network.json'))).toEqual(network);
    const schema = JSON.parse(readFileSync(join(out, 'network.schema.json'), 'utf8')) as { properties: Record<string, unknown>; required: string[] };
    expect(schema.required).toEqual(expect.arrayContaining(['format', 'version', 'input', 'layers', 'output', 'weights']));
    expect(Object.keys(schema.properties)).toContain('layers');
  });

  it('--weight-bits prints the accuracy after the approximation; a re-export replaces its own folder', async () => {
    const r = await cli(['export', runDir, '--target', 'nir', '--weight-bits', '4']);
    expect(r.code).toBe(0);
    const q = Array.from(predictSpiking(quantizeNetwork(network, 4).network, data.test));
    expect(r.stdout).toContain(`approximation: 4-bit weights (--weight-bits): accuracy ${(100 * accuracy(q, data.test.labels)).toFixed(2)}% vs ${(100 * accuracy(expected, data.test.labels)).toFixed(2)}%`);
    const manifest = JSON.parse(readFileSync(join(runDir, 'export', 'nir', 'export.json'), 'utf8')) as { weight_bits: number };
    expect(manifest.weight_bits).toBe(4);
  });

  it('refuses an --out that is not an export, and flags of other targets', async () => {
    const foreign = join(dir, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'keep.txt'), 'mine');
    const r = await cli(['export', runDir, '--target', 'json', '--out', foreign]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/exists and is not a whetstone export/);
    expect(readdirSync(foreign)).toEqual(['keep.txt']);
    const n = await cli(['export', runDir, '--target', 'loihi', '--neuron', 'if']);
    expect(n.code).toBe(2);
    expect(n.stderr).toMatch(/--neuron: applies to --target nir only/);
    const d = await cli(['export', join(dir, 'cnn', 'network.json'), '--target', 'spinnaker']);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/needs test images and this network is not inside a run directory/);
  });
});

describe('framework-free', () => {
  it('no module statically reachable from src/export/index.ts imports tfjs or the backend', () => {
    const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g;
    const graph = new Map<string, string[]>();
    const visit = (file: string) => {
      if (graph.has(file)) return;
      const specifiers = [...readFileSync(file, 'utf8').matchAll(IMPORT)].map((m) => (m[1] ?? m[2])!);
      graph.set(file, specifiers);
      for (const spec of specifiers) if (spec.startsWith('.')) visit(resolve(dirname(file), spec).replace(/\.js$/, '.ts'));
    };
    visit(join(HERE, '..', 'src', 'export', 'index.ts'));
    expect([...graph.keys()].some((f) => f.endsWith('export/nir.ts'))).toBe(true);
    const offenders = [...graph].filter(([file, specs]) => specs.some((x) => x.startsWith('@tensorflow') || /backend\/(tf|index)\.js$|model\/tf\.js$/.test(x)) || /from-tfjs\.ts$/.test(file));
    expect(offenders.map(([f]) => f)).toEqual([]);
  });
});
