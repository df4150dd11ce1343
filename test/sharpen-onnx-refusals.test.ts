/**
 * ONNX graphs sharpen cannot convert are refused before anything trains: one message naming
 * every offending node (its name and op type), exit 2, nothing written. The graphs are written
 * with onnx-proto's encoder (test/helpers/onnx-models.ts).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onnxArtifacts } from '../src/model/convert/onnx/index.js';
import { importedSource } from '../src/model/convert/import.js';
import { formatProblems, planConversion } from '../src/model/convert/plan.js';
import { cli } from './helpers/cli.js';
import { encodeOnnx, seeded, tinyCnnSpec, tinyMlpSpec, type OnnxModelSpec, type OnnxNodeSpec } from './helpers/onnx-models.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'whetstone-onnx-refusals-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MNIST = { shape: [28, 28, 1] as [number, number, number], classes: 10, dataset: 'mnist', inputEncoding: 'binary' as const };

/** The refusal message for a spec (the importer's problems, then the plan's), or '' if it converts. */
function refusal(spec: OnnxModelSpec): string {
  const imported = onnxArtifacts(encodeOnnx(spec), join(dir, 'm.onnx'), 'm.onnx');
  const { problems } = planConversion(importedSource(imported), MNIST);
  return problems.length === 0 ? '' : formatProblems('m.onnx', problems);
}

const conv = (name: string, input: string, output: string, weight: string, attrs: OnnxNodeSpec['attrs']): OnnxNodeSpec => ({ op: 'Conv', name, inputs: [input, weight], outputs: [output], attrs });

describe('refusals of ONNX graphs', () => {
  it('the tiny MLP converts', () => {
    expect(refusal(tinyMlpSpec())).toBe('');
  });

  it('unsupported ops, a grouped convolution, padding tfjs has no mode for and a Clip that is not ReLU6: every node at once', () => {
    const spec: OnnxModelSpec = {
      input: { name: 'image', dims: ['batch', 1, 28, 28] },
      output: 'logits',
      nodes: [
        conv('/c1/Conv', 'image', 'a', 'w1', { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] }),
        { op: 'LeakyRelu', name: '/act/LeakyRelu', inputs: ['a'], outputs: ['b'], attrs: { alpha: 0.01 } },
        conv('/c2/Conv', 'b', 'c', 'w2', { kernel_shape: [3, 3], group: 2, pads: [1, 1, 1, 1] }),
        { op: 'Clip', name: '/clip/Clip', inputs: ['c', 'lo', 'hi'], outputs: ['d'] },
        { op: 'Flatten', name: '/Flatten', inputs: ['d'], outputs: ['e'] },
        { op: 'Gemm', name: '/fc/Gemm', inputs: ['e', 'fw'], outputs: ['f'], attrs: { transB: 1 } },
        { op: 'Erf', name: '/head/Erf', inputs: ['f'], outputs: ['logits'] },
      ],
      initializers: [
        { name: 'w1', dims: [2, 1, 3, 3], values: seeded(18, 1) },
        { name: 'w2', dims: [2, 1, 3, 3], values: seeded(18, 2) },
        { name: 'lo', dims: [], values: Float32Array.of(0) },
        { name: 'hi', dims: [], values: Float32Array.of(1) },
        { name: 'fw', dims: [10, 392], values: seeded(3920, 3) },
      ],
    };
    const message = refusal(spec);
    expect(message.split('\n')[0]).toBe('m.onnx: cannot sharpen this model: 3 layers have no spiking counterpart');
    expect(message).toContain("  /c1/Conv (Conv): pads [1, 1, 1, 1] with strides [2, 2] on a 28×28 input are neither no padding nor tfjs's 'same'");
    expect(message).toContain('  /act/LeakyRelu (LeakyRelu): op LeakyRelu has no spiking counterpart');
    expect(message).toContain('  /head/Erf (Erf): op Erf has no spiking counterpart');
    // The walk stops at the first unsupported node on the path; what follows it is reported once that node is fixed:
    const fixed = refusal({ ...spec, nodes: spec.nodes.map((n) => (n.op === 'LeakyRelu' ? { ...n, op: 'Relu', attrs: {} } : n.op === 'Erf' ? { ...n, op: 'Identity' } : n)) });
    expect(fixed).toContain("  /c1/Conv (Conv): pads [1, 1, 1, 1] with strides [2, 2] on a 28×28 input are neither no padding nor tfjs's 'same' (0 before and 1 after in height, 0 and 1 in width)");
    expect(fixed).toContain('  /c2/Conv (Conv): group = 2: grouped convolutions are not supported');
    expect(fixed).toContain('  /clip/Clip (Clip): Clip(0, 1) has no spiking counterpart (Clip(0, 6) is ReLU6)');
  });

  it('a dynamic image size, named by the input', () => {
    const spec = tinyMlpSpec();
    expect(refusal({ ...spec, input: { name: 'image', dims: ['batch', 1, 'height', 'width'] } })).toContain(": image (input): dimension 2 is dynamic ('height'); sharpen needs fixed sizes except the batch; dimension 3 is dynamic ('width')");
  });

  it('an opset outside the ones implemented', () => {
    expect(refusal({ ...tinyMlpSpec(), opset: 7 })).toContain(': test_graph (opset): uses ai.onnx opset 7; sharpen reads opsets 9–18');
  });

  it('a residual connection (the data path branches)', () => {
    const spec: OnnxModelSpec = {
      input: { name: 'x', dims: [1, 784] },
      output: 'logits',
      nodes: [
        { op: 'Gemm', name: 'fc1', inputs: ['x', 'w1'], outputs: ['h'], attrs: { transB: 1 } },
        { op: 'Relu', name: 'relu1', inputs: ['h'], outputs: ['r'] },
        { op: 'Gemm', name: 'fc2', inputs: ['r', 'w2'], outputs: ['s'], attrs: { transB: 1 } },
        { op: 'Add', name: 'residual', inputs: ['s', 'r'], outputs: ['t'] },
        { op: 'Gemm', name: 'head', inputs: ['t', 'w3'], outputs: ['logits'], attrs: { transB: 1 } },
      ],
      initializers: [
        { name: 'w1', dims: [16, 784], values: seeded(16 * 784, 1) },
        { name: 'w2', dims: [16, 16], values: seeded(256, 2) },
        { name: 'w3', dims: [10, 16], values: seeded(160, 3) },
      ],
    };
    const message = refusal(spec);
    expect(message).toContain("  fc2 (Gemm): reads 'r' with 1 other node: the graph branches here");
    expect(message).toContain("  residual (Add): reads 'r' with 1 other node: the graph branches here");
  });

  it('a Reshape that is not a flatten, and MaxPool indices', () => {
    const spec: OnnxModelSpec = {
      input: { name: 'x', dims: ['n', 1, 28, 28] },
      output: 'y',
      nodes: [{ op: 'Reshape', name: 'rows', inputs: ['x', 'shape'], outputs: ['y'] }],
      initializers: [{ name: 'shape', dims: [3], ints: [-1, 28, 28] }],
    };
    expect(refusal(spec)).toContain(': rows (Reshape): reshapes to [-1, 28, 28]; only flattening to [batch, 784] is a layer');
  });

  it("a log-softmax head (PyTorch's F.log_softmax) is read as softmax; anywhere else it is refused", () => {
    const spec = tinyMlpSpec();
    const head: OnnxModelSpec = {
      ...spec,
      output: 'scores',
      nodes: [...spec.nodes, { op: 'LogSoftmax', name: '/LogSoftmax', inputs: ['logits'], outputs: ['scores'], attrs: { axis: 1 } }],
    };
    expect(refusal(head)).toBe('');
    const layers = (onnxArtifacts(encodeOnnx(head), join(dir, 'm.onnx'), 'm.onnx').artifacts.modelTopology as { config: { layers: { config: { activation?: string } }[] } }).config.layers;
    expect(layers.at(-1)!.config.activation).toBe('softmax');
    const hidden = { ...spec, nodes: spec.nodes.map((n) => (n.op === 'Relu' ? { ...n, op: 'LogSoftmax', name: '/hidden/LogSoftmax', attrs: { axis: 1 } } : n)) };
    expect(refusal(hidden)).toContain(': /hidden/LogSoftmax (LogSoftmax): log-softmax is supported only as the last op, on the classifier');
  });

  it('zero padding in its own Pad node folds into the Conv after it, and is refused before a pool', () => {
    const spec = tinyCnnSpec();
    const [convNode, ...rest] = spec.nodes;
    const padded: OnnxModelSpec = {
      ...spec,
      nodes: [{ op: 'Pad', name: '/pad/Pad', inputs: ['image', 'pads'], outputs: ['padded'], attrs: { mode: 'constant' } }, { ...convNode!, inputs: ['padded', 'conv.weight', 'conv.bias'], attrs: { kernel_shape: [3, 3] } }, ...rest],
      initializers: [...spec.initializers, { name: 'pads', dims: [8], ints: [0, 0, 1, 1, 0, 0, 1, 1] }],
    };
    const imported = onnxArtifacts(encodeOnnx(padded), join(dir, 'm.onnx'), 'm.onnx');
    expect(imported.problems).toEqual([]);
    const layers = (imported.artifacts.modelTopology as { config: { layers: { class_name: string; config: { padding?: string } }[] } }).config.layers;
    expect(layers[0]).toMatchObject({ class_name: 'Conv2D', config: { padding: 'same' } });
    const beforePool = { ...spec, nodes: spec.nodes.flatMap((n) => (n.op === 'MaxPool' ? [{ op: 'Pad', name: '/pad/Pad', inputs: ['r', 'pads'], outputs: ['rp'] }, { ...n, inputs: ['rp'] }] : [n])), initializers: [...spec.initializers, { name: 'pads', dims: [8], ints: [0, 0, 1, 1, 0, 0, 1, 1] }] };
    expect(refusal(beforePool)).toContain(': /pool/MaxPool (MaxPool): follows a Pad; zero padding is supported only right before a Conv');
  });

  it('through the CLI: exit 2, one line naming the node, before tfjs starts, nothing written', async () => {
    const spec = tinyMlpSpec();
    const file = join(dir, 'refused.onnx');
    writeFileSync(file, encodeOnnx({ ...spec, nodes: spec.nodes.map((n) => (n.op === 'Relu' ? { ...n, op: 'Tanh', name: '/act/Tanh' } : n)) }));
    const runs = join(dir, 'runs');
    const r = await cli(['sharpen', file, '--data', 'mnist', '--limit', '100', '--out', runs]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('error'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('refused.onnx: cannot sharpen this model: /act/Tanh (Tanh): op Tanh has no spiking counterpart');
    expect(r.stderr).not.toMatch(/backend:/);
    expect(existsSync(runs)).toBe(false);
  });
});
