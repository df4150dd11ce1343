/**
 * The constant part of an ONNX graph: initializers, Constant nodes, and the small shape
 * computations exporters emit around a Reshape (PyTorch's `x.view(x.size(0), -1)` becomes
 * Shape → Gather → Unsqueeze → Concat → Reshape). Those are evaluated here, with the batch size
 * as a symbol, so that the Reshape's target is known before anything runs.
 */
import type { onnx as Onnx } from 'onnx-proto';
import { InputError } from '../../../errors.js';
import { int, tensorValues, type TensorSource, type TensorValues } from './tensor.js';

export type NodeProto = Onnx.INodeProto;
export type GraphProto = Onnx.IGraphProto;

/** The batch dimension in evaluated shapes (any size). */
export const BATCH = -(2 ** 40);

/** Ops that only compute constants (shapes, indices) and are evaluated, not translated into layers. */
export const CONSTANT_OPS = new Set(['Constant', 'Shape', 'Gather', 'Unsqueeze', 'Squeeze', 'Concat', 'Cast', 'Identity']);

export function attribute(node: NodeProto, name: string) {
  return node.attribute?.find((a) => a.name === name);
}
export const attrInt = (node: NodeProto, name: string, fallback: number) => {
  const a = attribute(node, name);
  return a === undefined ? fallback : int(a.i);
};
export const attrFloat = (node: NodeProto, name: string, fallback: number) => attribute(node, name)?.f ?? fallback;
export const attrInts = (node: NodeProto, name: string): number[] | undefined => {
  const a = attribute(node, name);
  return a === undefined ? undefined : (a.ints ?? []).map(int);
};
export const attrString = (node: NodeProto, name: string, fallback: string) => {
  const a = attribute(node, name);
  return a?.s === undefined || a.s === null || a.s.length === 0 ? fallback : new TextDecoder().decode(a.s);
};

const intsValue = (ints: number[], dims: number[]): TensorValues => ({ dims, data: Float32Array.from(ints), ints });

/** Constant values by tensor name, evaluated on demand; `shapeOf` gives the shapes of the data path. */
export class GraphConstants {
  private readonly values = new Map<string, TensorValues>();
  private readonly producers = new Map<string, NodeProto>();
  /** Nodes whose outputs were evaluated (they are accounted for, not left over). */
  readonly evaluated = new Set<NodeProto>();
  private readonly evaluating = new Set<NodeProto>();

  constructor(
    graph: GraphProto,
    private readonly opset: number,
    private readonly src: TensorSource,
    private readonly shapeOf: (tensor: string) => readonly number[] | undefined,
  ) {
    for (const t of graph.initializer ?? []) this.values.set(t.name ?? '', tensorValues(t, src));
    for (const node of graph.node ?? []) for (const out of node.output ?? []) this.producers.set(out, node);
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** The value of `name` if it is constant (an initializer, or computed from constants), else undefined. */
  get(name: string): TensorValues | undefined {
    const known = this.values.get(name);
    if (known !== undefined) return known;
    const node = this.producers.get(name);
    if (node === undefined || !CONSTANT_OPS.has(node.opType ?? '') || (node.domain ?? '') !== '' || this.evaluating.has(node)) return undefined;
    this.evaluating.add(node); // a cycle among constants is not a constant
    let value: TensorValues | undefined;
    try {
      value = this.evaluate(node);
    } finally {
      this.evaluating.delete(node);
    }
    if (value !== undefined) {
      this.values.set(name, value);
      this.evaluated.add(node);
    }
    return value;
  }

  private evaluate(node: NodeProto): TensorValues | undefined {
    const inputs = node.input ?? [];
    const op = node.opType;
    if (op === 'Constant') {
      const a = node.attribute?.[0];
      if (a === undefined) return undefined;
      if (a.t !== undefined && a.t !== null) return tensorValues(a.t, this.src);
      if (a.name === 'value_float') return { dims: [], data: Float32Array.of(a.f ?? 0) };
      if (a.name === 'value_floats') return { dims: [a.floats?.length ?? 0], data: Float32Array.from(a.floats ?? []) };
      if (a.name === 'value_int') return intsValue([int(a.i)], []);
      if (a.name === 'value_ints') return intsValue((a.ints ?? []).map(int), [a.ints?.length ?? 0]);
      return undefined;
    }
    if (op === 'Shape') {
      const shape = this.shapeOf(inputs[0] ?? '');
      if (shape === undefined) return undefined;
      const n = shape.length;
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
      const dims = shape.slice(clamp(attrInt(node, 'start', 0)), clamp(attrInt(node, 'end', n)));
      return intsValue(dims, [dims.length]);
    }
    const first = this.get(inputs[0] ?? '');
    if (first === undefined) return undefined;
    switch (op) {
      case 'Identity':
      case 'Cast':
        return first;
      case 'Gather': {
        const index = this.get(inputs[1] ?? '');
        if (first.ints === undefined || index?.ints === undefined || first.dims.length !== 1 || attrInt(node, 'axis', 0) !== 0) return undefined;
        const n = first.ints.length;
        const picked = index.ints.map((i) => first.ints![i < 0 ? i + n : i]);
        if (picked.some((v) => v === undefined)) throw new InputError(`${this.src.shown}: node '${node.name}' (Gather) indexes past the end of its input`);
        return intsValue(picked as number[], [...index.dims]);
      }
      case 'Unsqueeze':
      case 'Squeeze': {
        const axes = this.opset >= 13 && inputs[1] ? this.get(inputs[1])?.ints : attrInts(node, 'axes');
        let dims = [...first.dims];
        if (op === 'Unsqueeze') {
          if (axes === undefined) return undefined;
          const rank = dims.length + axes.length;
          for (const a of [...axes].map((a) => (a < 0 ? a + rank : a)).sort((x, y) => x - y)) dims.splice(a, 0, 1);
        } else {
          const drop = axes?.map((a) => (a < 0 ? a + dims.length : a));
          dims = dims.filter((d, i) => (drop === undefined ? d !== 1 : !drop.includes(i)));
        }
        return { ...first, dims };
      }
      case 'Concat': {
        const parts = inputs.map((i) => this.get(i));
        if (parts.some((p) => p?.ints === undefined || p.dims.length !== 1)) return undefined;
        const ints = parts.flatMap((p) => p!.ints!);
        return intsValue(ints, [ints.length]);
      }
      default:
        return undefined;
    }
  }
}
