/**
 * ONNX import, proved against PyTorch itself (Debian's python3-torch and python3-onnx): a small
 * MLP and a small CNN are trained for 200–300 steps on 2,000 MNIST images, exported with
 * torch.onnx.export and checked with onnx.checker; the imported tfjs network's logits must equal
 * PyTorch's within 1e-4 on 100 test images before any fine-tuning. Then `whetstone sharpen` runs
 * end to end on an exported model.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../src/backend/index.js';
import { importedSource, importModel } from '../src/model/convert/import.js';
import { planConversion } from '../src/model/convert/plan.js';
import { cli } from './helpers/cli.js';
import { largestDifference, pyJson, PYTHON_DIR, writeMnistNpy } from './helpers/python.js';

const TEST_IMAGES = 100;
let dir: string;
let testX: Float32Array;

beforeAll(async () => {
  await initBackend();
  dir = mkdtempSync(join(tmpdir(), 'whetstone-onnx-'));
  ({ testX } = await writeMnistNpy(dir, 2000, TEST_IMAGES));
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Exported {
  logits: number[][];
  train_accuracy: number;
  ops: string[];
}

function exportTorch(kind: 'mlp' | 'cnn' | 'mix', file: string, ...flags: string[]): Exported {
  return pyJson<Exported>([join(PYTHON_DIR, 'torch_onnx.py'), kind, dir, join(dir, file), ...flags]);
}

/** The imported network's outputs on the test images (NHWC, as the datasets deliver them). */
async function importedLogits(file: string): Promise<{ logits: number[][]; layers: string[] }> {
  const imported = await importModel(join(dir, file), file);
  expect(imported.problems).toEqual([]);
  const model = await tf.loadLayersModel(tf.io.fromMemory(imported.artifacts));
  const source = importedSource(imported);
  const y = tf.tidy(() => {
    const x = tf.tensor4d(testX, [TEST_IMAGES, 28, 28, 1]);
    const shape = model.inputs[0]!.shape.slice(1) as number[];
    return model.predict(tf.reshape(x, [TEST_IMAGES, ...shape])) as tf.Tensor2D;
  });
  const logits = y.arraySync();
  y.dispose();
  model.dispose();
  return { logits, layers: source.layers.map((l) => l.className) };
}

describe('a PyTorch MLP exported to ONNX', () => {
  it('imports with the same logits as PyTorch (within 1e-4 on 100 images)', async () => {
    const torch = exportTorch('mlp', 'mlp.onnx');
    expect(torch.train_accuracy).toBeGreaterThan(0.85);
    expect(torch.ops).toEqual(['Flatten', 'Gemm', 'Relu', 'Gemm']);
    const ours = await importedLogits('mlp.onnx');
    expect(ours.layers).toEqual(['Flatten', 'Dense', 'Activation', 'Dense']);
    expect(largestDifference(ours.logits, torch.logits, 'mlp.onnx', 'PyTorch')).toBeLessThan(1e-4);
  }, 60_000);

  it('reads weights stored as ONNX external data beside the model', async () => {
    const torch = exportTorch('mlp', 'mlp-external.onnx', '--external');
    expect(existsSync(join(dir, 'mlp-external.onnx.data'))).toBe(true);
    const ours = await importedLogits('mlp-external.onnx');
    expect(largestDifference(ours.logits, torch.logits, 'mlp-external.onnx', 'PyTorch')).toBeLessThan(1e-4);
  }, 60_000);
});

describe('a PyTorch CNN exported to ONNX (padding, stride, batch norm, max pool, view, two linear layers)', () => {
  it('with batch norm kept as a node: the same logits as PyTorch, the first Dense permuted from CHW to HWC', async () => {
    const torch = exportTorch('cnn', 'cnn-bn.onnx', '--keep-bn', '--steps', '200');
    expect(torch.train_accuracy).toBeGreaterThan(0.85);
    expect(torch.ops).toContain('BatchNormalization');
    expect(torch.ops).toContain('Reshape');
    const ours = await importedLogits('cnn-bn.onnx');
    expect(ours.layers).toEqual(['Conv2D', 'BatchNormalization', 'Activation', 'MaxPooling2D', 'Conv2D', 'Activation', 'Flatten', 'Dense', 'Activation', 'Dense']);
    expect(largestDifference(ours.logits, torch.logits, 'cnn-bn.onnx', 'PyTorch')).toBeLessThan(1e-4);
  }, 60_000);

  it('as the default eval export (batch norm folded, view as Shape → Gather → Concat → Reshape): the same logits', async () => {
    const torch = exportTorch('cnn', 'cnn.onnx', '--steps', '200');
    expect(torch.ops).toContain('Shape');
    expect(torch.ops).not.toContain('BatchNormalization');
    const ours = await importedLogits('cnn.onnx');
    expect(largestDifference(ours.logits, torch.logits, 'cnn.onnx', 'PyTorch')).toBeLessThan(1e-4);
    // And it converts: every layer has a spiking counterpart.
    const imported = await importModel(join(dir, 'cnn.onnx'), 'cnn.onnx');
    const { problems } = planConversion(importedSource(imported), { shape: [28, 28, 1], classes: 10, dataset: 'mnist', inputEncoding: 'binary' });
    expect(problems).toEqual([]);
  }, 60_000);
});

describe('the other ops (Clip as ReLU6, AveragePool, BatchNormalization on a flattened map, MatMul + Add, Sigmoid, Softmax)', () => {
  it('import with the same outputs as PyTorch; sharpen then refuses the batch norm after the pool', async () => {
    const torch = exportTorch('mix', 'mix.onnx', '--keep-bn');
    expect(torch.ops).toEqual(expect.arrayContaining(['Clip', 'AveragePool', 'BatchNormalization', 'MatMul', 'Add', 'Sigmoid', 'Softmax']));
    const ours = await importedLogits('mix.onnx');
    expect(ours.layers).toEqual(['Conv2D', 'Activation', 'AveragePooling2D', 'Flatten', 'BatchNormalization', 'Dense', 'Activation', 'Dense', 'Activation']);
    expect(largestDifference(ours.logits, torch.logits, 'mix.onnx', 'PyTorch')).toBeLessThan(1e-4);
    const imported = await importModel(join(dir, 'mix.onnx'), 'mix.onnx');
    const { problems } = planConversion(importedSource(imported), { shape: [28, 28, 1], classes: 10, dataset: 'mnist', inputEncoding: 'binary' });
    expect(problems.map((p) => p.message)).toContain('must directly follow a Conv2D or Dense without activation, so that it can be folded into it');
  }, 60_000);
});

describe('whetstone sharpen model.onnx', () => {
  it('cross-trains an exported PyTorch MLP into a spiking network and writes a run directory', async () => {
    exportTorch('mlp', 'tiny.onnx', '--steps', '200');
    const r = await cli(['sharpen', join(dir, 'tiny.onnx'), '--data', 'mnist', '--limit', '600', '--key-width', '2', '--out', join(dir, 'runs')]);
    expect(r.stderr).not.toMatch(/^error/m);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/original model +\d+\.\d+% +onnx graph, 50,890 parameters/);
    const runDir = r.stdout.match(/^run +(.+)$/m)![1]!;
    for (const f of ['config.yaml', 'metadata.json', 'summary.json', 'model/model.json', 'snn/network.json']) expect(existsSync(join(runDir, f)), f).toBe(true);
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'));
    expect(summary.original_accuracy).toBeGreaterThan(0.8);
    expect(summary.snn.agrees_with_tfjs).toBe(true);
    const metadata = JSON.parse(readFileSync(join(runDir, 'metadata.json'), 'utf8'));
    expect(metadata.source_model.format).toBe('onnx');
    expect(metadata.source_model.layers.map((l: { class_name: string }) => l.class_name)).toEqual(['Flatten', 'Dense', 'Activation', 'Dense']);
  }, 120_000);
});
