/**
 * NIR — the Neuromorphic Intermediate Representation (neuromorphs/NIR), an HDF5 graph read by
 * Lava, SpiNNaker2, Rockpool/Xylo, Sinabs/Speck, snnTorch, Norse, Nengo and Spyx.
 *
 * Layout, as the reference reader (nir/serialization.py `read` → `dict2NIRNode`) requires:
 * `/version` (scalar string); `/node` = the graph: `type` "NIRGraph", `nodes/<name>/…`, `edges`
 * (strings, N × 2, [source, target]), optional `metadata/`. A node group holds `type` and exactly
 * the fields of its dataclass: the reader passes every dataset to the constructor, so an extra one
 * is a TypeError. Shapes are CHW without a batch dimension, weights PyTorch's (out, in[, kh, kw]).
 *
 * Mapping (docs/targets.md): dense → Affine, conv → Conv2d, OR pool → SumPool2d, each followed by
 * the neuron: `Threshold` (stateless step z > θ′, the faithful form) or, with `--neuron if`, `IF`.
 * Whetstone fires on z ≥ θ; θ′ is the largest float32 below θ, so z > θ′ ⟺ z ≥ θ for float32 z.
 * OR pool neurons sum unit spikes: sum > 0.5 ⟺ at least one.
 */
import { join } from 'node:path';
import { InputError } from '../errors.js';
import type { SpikingNetwork } from '../snn/network.js';
import { convOihw, denseOutIn, nextDown32, perNeuron, planLayers, symmetricPadding, type PlannedLayer } from './layout.js';
import type { ExportTarget, NirNeuron, TargetContext, TargetReport } from './target.js';

export const NIR_FILE = 'network.nir';
/** Version string written to /version (the NIR format generation this layout follows). */
export const NIR_VERSION = '1.0.0';

type H5Data = Float32Array | BigInt64Array | string | string[];
interface NirField {
  readonly data: H5Data;
  readonly shape: number[];
}
interface NirNode {
  readonly type: string;
  readonly fields: Record<string, NirField>;
}

const ints = (values: readonly number[]): NirField => ({ data: BigInt64Array.from(values.map((v) => BigInt(v))), shape: [values.length] });
const scalarInt = (v: number): NirField => ({ data: BigInt64Array.from([BigInt(v)]), shape: [] });
const floats = (values: Float32Array | Float64Array, shape: readonly number[]): NirField => ({ data: Float32Array.from(values), shape: [...shape] });

/** Shape NIR's Conv2d infers for its output (nir/ir/conv.py: the kernel *height* is used for both axes). */
function nirConvOutput(n: readonly [number, number], padding: readonly [number, number], kernelHeight: number, stride: readonly [number, number]): [number, number] {
  return [0, 1].map((i) => Math.floor((n[i]! + 2 * padding[i]! - (kernelHeight - 1) - 1) / stride[i]! + 1)) as [number, number];
}

function chw(shape: readonly number[]): number[] {
  return shape.length === 3 ? [shape[2]!, shape[0]!, shape[1]!] : [...shape];
}

function safeName(name: string, taken: Set<string>): string {
  let base = name.replace(/[^A-Za-z0-9_]/g, '_') || 'node';
  if (base === 'input' || base === 'output') base = `${base}_layer`;
  let candidate = base;
  for (let k = 2; taken.has(candidate); k++) candidate = `${base}_${k}`;
  taken.add(candidate);
  return candidate;
}

/** Checks what the reference reader would refuse: padding it cannot express, kernels whose output it mis-infers. */
function checkLayer(p: PlannedLayer): void {
  const l = p.layer;
  if (l.type === 'dense') return;
  const window = l.type === 'conv2d' ? l.kernel : l.pool;
  const pad = symmetricPadding('NIR', l.name, l.inputShape, l.outputShape, window, l.strides, l.padding);
  if (l.type === 'conv2d') {
    const inferred = nirConvOutput([l.inputShape[0], l.inputShape[1]], pad, l.kernel[0], l.strides);
    if (inferred[0] !== l.outputShape[0] || inferred[1] !== l.outputShape[1]) {
      throw new InputError(
        `layer ${l.name}: the NIR reader infers a Conv2d's output from the kernel height alone (nir/ir/conv.py), so this ${l.kernel[0]}×${l.kernel[1]} kernel would fail its type check (${inferred.join('×')} instead of ${l.outputShape[0]}×${l.outputShape[1]})`,
      );
    }
  }
}

/** The NIR graph of a network, as plain nodes and edges (no file I/O). */
export function nirGraph(network: SpikingNetwork, neuron: NirNeuron): { nodes: Map<string, NirNode>; edges: [string, string][] } {
  const planned = planLayers(network);
  for (const p of planned) checkLayer(p);
  const nodes = new Map<string, NirNode>();
  const edges: [string, string][] = [];
  const taken = new Set<string>(['input', 'output']);
  nodes.set('input', { type: 'Input', fields: { shape: ints(chw(network.input.shape)) } });
  let previous = 'input';
  const link = (name: string, node: NirNode) => {
    nodes.set(name, node);
    edges.push([previous, name]);
    previous = name;
  };
  let k = 0;
  for (const layer of network.layers) {
    if (layer.type === 'flatten') {
      link(safeName(layer.name, taken), {
        type: 'Flatten',
        fields: { input_type: ints(chw(layer.inputShape)), start_dim: scalarInt(0), end_dim: scalarInt(-1) },
      });
      continue;
    }
    const p = planned[k++]!;
    const l = p.layer;
    const base = safeName(l.name, taken);
    if (l.type === 'dense') {
      link(`${base}_affine`, { type: 'Affine', fields: { weight: floats(denseOutIn(p), [l.units, l.inputSize]), bias: floats(l.bias, [l.units]) } });
    } else if (l.type === 'conv2d') {
      const [kh, kw] = l.kernel;
      const [inH, inW, inC] = l.inputShape;
      const outC = l.outputShape[2];
      const pad = symmetricPadding('NIR', l.name, l.inputShape, l.outputShape, l.kernel, l.strides, l.padding);
      link(`${base}_conv`, {
        type: 'Conv2d',
        fields: {
          input_shape: ints([inH, inW]),
          weight: floats(convOihw(kh, kw, inC, outC, l.weights), [outC, inC, kh, kw]),
          stride: ints(l.strides),
          padding: ints(pad),
          dilation: ints([1, 1]),
          groups: scalarInt(1),
          bias: floats(l.bias, [outC]),
        },
      });
    } else {
      const pad = symmetricPadding('NIR', l.name, l.inputShape, l.outputShape, l.pool, l.strides, l.padding);
      link(`${base}_sumpool`, { type: 'SumPool2d', fields: { kernel_size: ints(l.pool), stride: ints(l.strides), padding: ints(pad) } });
    }
    const shape = chw(p.outShape);
    const { threshold } = perNeuron(p);
    // θ′: z > θ′ ⟺ z ≥ θ in float32 (pools: unit sums, > 0.5 ⟺ ≥ 1).
    const strict = threshold.map((t) => (l.type === 'or_pool2d' ? 0.5 : nextDown32(t)));
    if (neuron === 'threshold') {
      link(`${base}_threshold`, { type: 'Threshold', fields: { threshold: floats(strict, shape) } });
    } else {
      link(`${base}_if`, {
        type: 'IF',
        fields: { r: floats(new Float64Array(strict.length).fill(1), shape), v_threshold: floats(strict, shape), v_reset: floats(new Float64Array(strict.length), shape) },
      });
    }
  }
  const last = planned.at(-1)!;
  nodes.set('output', { type: 'Output', fields: { shape: ints(chw(last.outShape)) } });
  edges.push([previous, 'output']);
  return { nodes, edges };
}

async function writeNirFile(path: string, network: SpikingNetwork, neuron: NirNeuron, graph: ReturnType<typeof nirGraph>, source: string): Promise<void> {
  const h5wasm = (await import('h5wasm/node')).default;
  await h5wasm.ready;
  const file = new h5wasm.File(path, 'w');
  try {
    file.create_dataset({ name: 'version', data: NIR_VERSION });
    const root = file.create_group('node');
    root.create_dataset({ name: 'type', data: 'NIRGraph' });
    const nodes = root.create_group('nodes');
    for (const [name, node] of graph.nodes) {
      const g = nodes.create_group(name);
      g.create_dataset({ name: 'type', data: node.type });
      for (const [field, value] of Object.entries(node.fields)) g.create_dataset({ name: field, data: value.data, shape: value.shape });
    }
    root.create_dataset({ name: 'edges', data: graph.edges.flat(), shape: [graph.edges.length, 2] });
    const meta = root.create_group('metadata');
    meta.create_dataset({ name: 'generator', data: 'whetstone' });
    meta.create_dataset({ name: 'network', data: network.name });
    meta.create_dataset({ name: 'source', data: source });
    meta.create_dataset({ name: 'neuron', data: neuron });
    meta.create_dataset({ name: 'input_encoding', data: network.input.encoding });
    if (network.input.encoding === 'binary') meta.create_dataset({ name: 'input_threshold', data: Float32Array.from([network.input.threshold ?? 0.5]), shape: [] });
    const key = network.output.key;
    meta.create_dataset({ name: 'readout_key', data: BigInt64Array.from(key.flat().map((v) => BigInt(v))), shape: [key.length, key[0]!.length] });
    meta.create_dataset({ name: 'class_names', data: [...network.output.classNames], shape: [network.output.classNames.length] });
  } finally {
    file.close();
  }
}

function readme(network: SpikingNetwork, neuron: NirNeuron, graph: ReturnType<typeof nirGraph>): string {
  const enc =
    network.input.encoding === 'binary'
      ? `binary spikes: pixel byte b is 1 iff float32(b/255) ≥ float32(${network.input.threshold ?? 0.5}) (metadata/input_threshold)`
      : 'analog: float32(b/255) per pixel, as current into the first layer';
  const lines = [
    `\`${NIR_FILE}\` is the spiking network as a NIR graph (HDF5, NIR ${NIR_VERSION} layout), with ${neuron === 'threshold' ? 'stateless `Threshold`' : '`IF`'} neurons.`,
    '',
    '## Load it',
    '',
    '```python',
    'import nir',
    `graph = nir.read("${NIR_FILE}")`,
    '# e.g. snnTorch:  snntorch.import_nirtorch.import_from_nir(graph)',
    '#      Norse:     norse.torch.from_nir(graph)',
    '#      Lava-dl:   lava.lib.dl.netx.nir_lava …',
    '```',
    '',
    'NIR readers that cannot infer a `SumPool2d` node\'s input type (its parameters do not determine it) need `nir.read(path, type_check=False)` for networks with pooling.',
    '',
    '## What the graph computes',
    '',
    `Input: shape [channels, height, width] (CHW), ${enc}. The encoder itself is not part of the graph.`,
    '',
    `Nodes, in order: ${[...graph.nodes.entries()].map(([n, v]) => `\`${n}\` (${v.type})`).join(' → ')}.`,
    '',
    '- A Whetstone neuron computes z = W·s + b and fires iff z ≥ θ. NIR\'s step fires iff z **>** θ′, so θ′ is the largest float32 below θ: for float32 z the two agree exactly.',
    '- An OR pool (max pooling of spikes) is `SumPool2d` then a step with threshold 0.5: at least one spike in the window.',
    '- `Flatten` turns [C, H, W] into a vector in CHW order; the following `Affine` weights are permuted to match (the artifact itself flattens HWC).',
    '- Readout (not part of NIR): the output spikes s are decoded with `metadata/readout_key` K (classes × neurons): class = argmax over c of Σ_j (2K[c][j] − 1)(2s_j − 1), ties to the lowest class; `metadata/class_names` names them.',
  ];
  if (neuron === 'if') {
    lines.push(
      '',
      '## The IF form and when it is exact',
      '',
      '`IF` (v̇ = R·I, fires when v > v_threshold, then v ← v_reset) keeps its voltage between steps, while a Whetstone neuron is memoryless. It reproduces the memoryless neuron exactly under this presentation:',
      '',
      '1. each sample is presented for **one** simulation step, and the whole graph is evaluated in that step (the feed-forward evaluation of NIR graphs in PyTorch-based simulators: snnTorch, Norse, Sinabs);',
      '2. the integration of that one step is v ← v + R·I with R·dt = 1 (this file sets r = 1; a simulator that multiplies by dt needs r = 1/dt);',
      '3. every state is reset to 0 before each sample.',
      '',
      'Then v = W·s + b after the step, and the spike test v > θ′ is the threshold test above. The **bias** lives in the `Affine`/`Conv2d` node, i.e. it is a constant current: over more than one step per sample it would be integrated again every step and the neuron would no longer be memoryless, so do not present a sample for several steps.',
    );
  }
  return `${lines.join('\n')}\n`;
}

export const nirTarget: ExportTarget = {
  name: 'nir',
  description: 'NIR graph (HDF5) for Lava, SpiNNaker2, Rockpool, Sinabs, snnTorch, Norse, Nengo, Spyx',
  needsSamples: false,
  check(network, { neuron }) {
    nirGraph(network, neuron);
  },
  async write(ctx: TargetContext): Promise<TargetReport> {
    const graph = nirGraph(ctx.network, ctx.neuron);
    await writeNirFile(join(ctx.dir, NIR_FILE), ctx.network, ctx.neuron, graph, ctx.source);
    return {
      files: [NIR_FILE],
      readme: readme(ctx.network, ctx.neuron, graph),
      lines: [`NIR graph: ${graph.nodes.size} nodes, ${graph.edges.length} edges, ${ctx.neuron === 'threshold' ? 'Threshold' : 'IF'} neurons`],
      details: { nodes: [...graph.nodes].map(([name, n]) => ({ name, type: n.type })), neuron: ctx.neuron },
    };
  },
};

