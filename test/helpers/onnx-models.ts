/**
 * Small ONNX models written with onnx-proto's encoder (ONNX's own schema), for refusal, error and
 * fuzz tests that need graphs PyTorch would not export. Exactness is tested against real PyTorch
 * exports (test/sharpen-onnx.test.ts).
 */
import onnxProto from 'onnx-proto';
import { SeededRandom } from '../../src/util/random.js';

const { onnx } = onnxProto;
type Attr = number | number[] | string;

export interface OnnxNodeSpec {
  readonly op: string;
  readonly inputs: string[];
  readonly outputs: string[];
  readonly name?: string;
  readonly attrs?: Record<string, Attr>;
  readonly domain?: string;
}
export interface OnnxTensorSpec {
  readonly name: string;
  readonly dims: number[];
  /** float32 values; or `{ external: 'file' }` to point at external data. */
  readonly values?: Float32Array;
  readonly ints?: number[];
  readonly external?: { location: string; offset?: number; length?: number };
}
export interface OnnxModelSpec {
  readonly nodes: OnnxNodeSpec[];
  readonly initializers: OnnxTensorSpec[];
  readonly input: { name: string; dims: (number | string)[] };
  readonly output: string;
  readonly opset?: number;
}

function attribute(name: string, value: Attr) {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  return Number.isInteger(value) ? { name, type: T.INT, i: value } : { name, type: T.FLOAT, f: value };
}

function tensor(t: OnnxTensorSpec) {
  if (t.external !== undefined) {
    const entries = Object.entries(t.external).map(([key, value]) => ({ key, value: String(value) }));
    return { name: t.name, dims: t.dims, dataType: 1, dataLocation: 1, externalData: entries };
  }
  if (t.ints !== undefined) return { name: t.name, dims: t.dims, dataType: 7, int64Data: t.ints };
  const values = t.values!;
  return { name: t.name, dims: t.dims, dataType: 1, rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}

export function encodeOnnx(spec: OnnxModelSpec): Uint8Array {
  const dim = (d: number | string) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'whetstone-test',
    opsetImport: [{ domain: '', version: spec.opset ?? 14 }],
    graph: {
      name: 'test_graph',
      node: spec.nodes.map((n, i) => ({ opType: n.op, input: n.inputs, output: n.outputs, name: n.name ?? `/${n.op}_${i}`, domain: n.domain ?? '', attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)) })),
      initializer: spec.initializers.map(tensor),
      input: [{ name: spec.input.name, type: { tensorType: { elemType: 1, shape: { dim: spec.input.dims.map(dim) } } } }],
      output: [{ name: spec.output, type: { tensorType: { elemType: 1 } } }],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Seeded values in [−scale, scale]. */
export function seeded(n: number, seed: number, scale = 0.1): Float32Array {
  const rng = new SeededRandom(seed);
  return Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);
}

/** A PyTorch-style MLP: Flatten → Gemm(784→hidden, transB) → Relu → Gemm(hidden→10). */
export function tinyMlpSpec(hidden = 8): OnnxModelSpec {
  return {
    input: { name: 'image', dims: ['batch', 1, 28, 28] },
    output: 'logits',
    nodes: [
      { op: 'Flatten', inputs: ['image'], outputs: ['flat'], name: '/Flatten', attrs: { axis: 1 } },
      { op: 'Gemm', inputs: ['flat', 'fc1.weight', 'fc1.bias'], outputs: ['h'], name: '/fc1/Gemm', attrs: { transB: 1 } },
      { op: 'Relu', inputs: ['h'], outputs: ['r'], name: '/Relu' },
      { op: 'Gemm', inputs: ['r', 'fc2.weight', 'fc2.bias'], outputs: ['logits'], name: '/fc2/Gemm', attrs: { transB: 1 } },
    ],
    initializers: [
      { name: 'fc1.weight', dims: [hidden, 784], values: seeded(hidden * 784, 1) },
      { name: 'fc1.bias', dims: [hidden], values: seeded(hidden, 2) },
      { name: 'fc2.weight', dims: [10, hidden], values: seeded(10 * hidden, 3) },
      { name: 'fc2.bias', dims: [10], values: seeded(10, 4) },
    ],
  };
}

/** A PyTorch-style CNN as its default export writes it: Conv(pad 1) → Relu → MaxPool → view(n, -1) through Shape/Gather/Unsqueeze/Concat → Reshape → Gemm. */
export function tinyCnnSpec(): OnnxModelSpec {
  return {
    input: { name: 'image', dims: ['batch', 1, 28, 28] },
    output: 'logits',
    nodes: [
      { op: 'Conv', inputs: ['image', 'conv.weight', 'conv.bias'], outputs: ['c'], name: '/conv/Conv', attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1], dilations: [1, 1], group: 1 } },
      { op: 'Relu', inputs: ['c'], outputs: ['r'], name: '/Relu' },
      { op: 'MaxPool', inputs: ['r'], outputs: ['p'], name: '/pool/MaxPool', attrs: { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], ceil_mode: 0 } },
      { op: 'Shape', inputs: ['p'], outputs: ['shape'], name: '/Shape' },
      { op: 'Constant', inputs: [], outputs: ['zero'], name: '/Constant', attrs: { value_int: 0 } },
      { op: 'Gather', inputs: ['shape', 'zero'], outputs: ['n'], name: '/Gather', attrs: { axis: 0 } },
      { op: 'Unsqueeze', inputs: ['n', 'axes'], outputs: ['n1'], name: '/Unsqueeze' },
      { op: 'Concat', inputs: ['n1', 'minus_one'], outputs: ['target'], name: '/Concat', attrs: { axis: 0 } },
      { op: 'Reshape', inputs: ['p', 'target'], outputs: ['flat'], name: '/Reshape' },
      { op: 'Gemm', inputs: ['flat', 'fc.weight', 'fc.bias'], outputs: ['logits'], name: '/fc/Gemm', attrs: { transB: 1 } },
    ],
    initializers: [
      { name: 'conv.weight', dims: [2, 1, 3, 3], values: seeded(18, 5) },
      { name: 'conv.bias', dims: [2], values: seeded(2, 6) },
      { name: 'axes', dims: [1], ints: [0] },
      { name: 'minus_one', dims: [1], ints: [-1] },
      { name: 'fc.weight', dims: [10, 392], values: seeded(3920, 7) },
      { name: 'fc.bias', dims: [10], values: seeded(10, 8) },
    ],
  };
}
