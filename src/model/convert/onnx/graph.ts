/**
 * An ONNX graph → the chain of Keras-style layers (and their tfjs-layout weights) that plan.ts
 * reads, walking the data path from the one graph input to the one graph output. Each node on
 * the path becomes a layer, or nothing (Identity, a Flatten of something already flat); the
 * constant side (initializers, shape arithmetic) is evaluated by constants.ts.
 *
 * Layout: ONNX maps are NCHW, tfjs's NHWC. Conv kernels go OIHW → HWIO, and the first Dense after
 * a Flatten of a C×H×W map gets its rows permuted from (c, h, w) to tfjs's (h, w, c) order (as does
 * a batch norm between them). What has no layer is collected as problems, one per node, named by
 * the node's name and op type; a weight whose shape disagrees with the graph is an InputError.
 */
import { InputError } from '../../../errors.js';
import type { NamedWeight } from '../imported.js';
import type { LayerProblem } from '../source.js';
import { attrFloat, attrInt, attrInts, attrString, BATCH, CONSTANT_OPS, GraphConstants, type GraphProto, type NodeProto } from './constants.js';
import { chwToHwcOrder, convKernelToHwio, permuteRows, transpose } from './layout.js';
import { axisPadding } from './padding.js';
import { int, type TensorSource, type TensorValues } from './tensor.js';

export type LayerJson = { class_name: string; config: Record<string, unknown> };

export interface OnnxChain {
  readonly layers: LayerJson[];
  readonly weights: NamedWeight[];
  readonly problems: LayerProblem[];
}

/** Ops translated into layers (the data path); CONSTANT_OPS are evaluated instead. */
export const LAYER_OPS = new Set([
  'Conv', 'Gemm', 'MatMul', 'Add', 'Relu', 'Clip', 'Sigmoid', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool',
  'Flatten', 'Reshape', 'BatchNormalization', 'Dropout', 'Identity', 'Softmax', 'LogSoftmax', 'Pad',
]);

type Shape = { kind: 'image'; c: number; h: number; w: number; collapsed?: boolean } | { kind: 'flat'; n: number };

const nodeLabel = (node: NodeProto) => node.name || node.output?.[0] || node.opType || 'node';

export function translateGraph(graph: GraphProto, opset: number, src: TensorSource): OnnxChain {
  const problems: LayerProblem[] = [];
  const layers: LayerJson[] = [];
  const weights: NamedWeight[] = [];
  const nodes = graph.node ?? [];
  const problem = (node: NodeProto, message: string) => problems.push({ layer: nodeLabel(node), className: node.opType ?? '?', message });
  const graphName = graph.name || 'graph';
  const graphProblem = (message: string) => problems.push({ layer: graphName, className: 'graph', message });

  // Every node whose op has no translation, all at once.
  for (const node of nodes) {
    const op = node.opType ?? '';
    if ((node.domain ?? '') !== '' && node.domain !== 'ai.onnx') problem(node, `op ${node.domain}.${op} is not supported`);
    else if (!LAYER_OPS.has(op) && !CONSTANT_OPS.has(op)) problem(node, `op ${op} has no spiking counterpart`);
  }

  const dataShapes = new Map<string, number[]>();
  const constants = new GraphConstants(graph, opset, src, (t) => dataShapes.get(t));
  const inputs = (graph.input ?? []).filter((i) => !constants.has(i.name ?? ''));
  if (inputs.length !== 1) graphProblem(`has ${inputs.length} inputs besides its weights; a spiking chain has one`);
  if ((graph.output ?? []).length !== 1) graphProblem(`has ${(graph.output ?? []).length} outputs; a spiking chain has one`);
  const input = inputs[0];
  if (input === undefined || (graph.output ?? []).length !== 1) return { layers, weights, problems };

  // The input: [N, C, H, W] or [N, F], every dimension but the batch fixed.
  const inputName = input.name ?? 'input';
  const dims = input.type?.tensorType?.shape?.dim ?? [];
  const sizes = dims.map((d) => (d.dimValue !== undefined && d.dimValue !== null && int(d.dimValue) > 0 ? int(d.dimValue) : undefined));
  const inputProblem = (message: string) => problems.push({ layer: inputName, className: 'input', message });
  dims.forEach((d, i) => {
    if (i > 0 && sizes[i] === undefined) inputProblem(`dimension ${i} is dynamic${d.dimParam ? ` ('${d.dimParam}')` : ''}; sharpen needs fixed sizes except the batch`);
  });
  if (dims.length !== 2 && dims.length !== 4) inputProblem(`has rank ${dims.length}; expected [batch, C, H, W] images or [batch, features] vectors`);
  if (problems.some((p) => p.className === 'input')) return { layers, weights, problems };
  let shape: Shape = dims.length === 4 ? { kind: 'image', c: sizes[1]!, h: sizes[2]!, w: sizes[3]! } : { kind: 'flat', n: sizes[1]! };
  const batchInputShape = shape.kind === 'image' ? [null, shape.h, shape.w, shape.c] : [null, shape.n];
  const onnxDims = (s: Shape) => (s.kind === 'image' ? [BATCH, s.c, s.h, s.w] : [BATCH, s.n]);

  const taken = new Set<string>();
  const layerName = (node: NodeProto) => {
    let base = nodeLabel(node).replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
    if (!/^[A-Za-z]/.test(base)) base = `${(node.opType ?? 'node').toLowerCase()}${base === '' ? '' : `_${base}`}`;
    let name = base;
    for (let i = 2; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    return name;
  };
  const weightOf = (node: NodeProto, index: number, what: string): TensorValues => {
    const name = node.input?.[index] ?? '';
    const value = name === '' ? undefined : constants.get(name);
    if (value === undefined) throw new InputError(`${src.shown}: node '${nodeLabel(node)}' (${node.opType}): its ${what} '${name}' is not a constant (an initializer)`);
    return value;
  };
  const disagree = (node: NodeProto, what: string, found: readonly number[], expected: string) =>
    new InputError(`${src.shown}: node '${nodeLabel(node)}' (${node.opType}): ${what} has shape [${found.join(', ')}] but the graph needs ${expected} (weights do not match the graph)`);
  const vectorOf = (node: NodeProto, index: number, what: string, n: number) => {
    const v = weightOf(node, index, what);
    if (v.data.length !== n) throw disagree(node, what, v.dims, `${n} values`);
    return v.data;
  };

  let permutation: Int32Array | undefined; // pending (c, h, w) → (h, w, c) reorder of a flattened map
  let padding: number[] | undefined; // a Pad's zeros [top, left, bottom, right], for the Conv after it
  const add = (class_name: string, config: Record<string, unknown>, ws: [string, number[], Float32Array][] = []) => {
    if (layers.length === 0) config.batch_input_shape = batchInputShape;
    layers.push({ class_name, config });
    for (const [w, s, values] of ws) weights.push({ name: `${config.name as string}/${w}`, shape: s, values });
  };
  // A problem after which the shapes further on are unknown: the walk stops there.
  let halted = false;
  const halt = (node: NodeProto, message: string) => {
    problem(node, message);
    halted = true;
  };
  type Image = Extract<Shape, { kind: 'image' }>;
  const needImage = (node: NodeProto): Image | undefined => {
    if (shape.kind === 'image' && !shape.collapsed) return shape;
    halt(node, shape.kind === 'flat' ? `needs a C×H×W map but gets a flat vector of ${shape.n}` : 'follows a global pool; only Flatten may');
    return undefined;
  };
  const flatten = (node: NodeProto): boolean => {
    if (shape.kind === 'flat') return true;
    if (!shape.collapsed) {
      add('Flatten', { name: layerName(node), data_format: 'channels_last' });
      if (shape.c > 1 && shape.h * shape.w > 1) permutation = chwToHwcOrder(shape.c, shape.h, shape.w);
    }
    shape = { kind: 'flat', n: shape.c * shape.h * shape.w };
    return true;
  };
  /** A Dense layer from a [K, N] kernel (tfjs layout), applying a pending flatten reorder. */
  const dense = (node: NodeProto, kernel: Float32Array, k: number, n: number, bias: Float32Array | undefined) => {
    if (shape.kind !== 'flat') return false;
    if (k !== shape.n) throw disagree(node, 'its weight', [k, n], `${shape.n} inputs (what reaches it)`);
    if (permutation !== undefined) kernel = permuteRows(kernel, n, permutation);
    permutation = undefined;
    const name = layerName(node);
    add('Dense', { name, units: n, activation: 'linear', use_bias: bias !== undefined }, [[ 'kernel', [k, n], kernel ], ...(bias === undefined ? [] : [['bias', [n], bias] as [string, number[], Float32Array]])]);
    shape = { kind: 'flat', n };
    return true;
  };
  const window = (node: NodeProto, kernel: readonly number[], isConv: boolean) => {
    if (shape.kind !== 'image') return undefined;
    const strides = attrInts(node, 'strides') ?? [1, 1];
    const dilations = attrInts(node, 'dilations') ?? [1, 1];
    const own = attrInts(node, 'pads') ?? [0, 0, 0, 0];
    const pads = own.map((p, i) => p + (padding?.[i] ?? 0));
    padding = undefined;
    const autoPad = attrString(node, 'auto_pad', 'NOTSET');
    const ceil = attrInt(node, 'ceil_mode', 0) === 1;
    const axes = [shape.h, shape.w].map((size, i) => {
      const span = (kernel[i]! - 1) * dilations[i]! + 1;
      const total = Math.max((Math.ceil(size / strides[i]!) - 1) * strides[i]! + span - size, 0);
      const [before, after] =
        autoPad === 'VALID' ? [0, 0] : autoPad === 'SAME_UPPER' ? [Math.floor(total / 2), Math.ceil(total / 2)] : autoPad === 'SAME_LOWER' ? [Math.ceil(total / 2), Math.floor(total / 2)] : [pads[i]!, pads[i + 2]!];
      return axisPadding({ size, kernel: kernel[i]!, stride: strides[i]!, dilation: dilations[i]!, before, after, ceil });
    });
    const [ah, aw] = axes as [ReturnType<typeof axisPadding>, ReturnType<typeof axisPadding>];
    const mode = ah.mode === aw.mode ? ah.mode : ah.mode === undefined || aw.mode === undefined ? undefined : ah.out === shape.h && aw.out === shape.w ? 'same' : undefined;
    if (mode === undefined) {
      problem(node, `pads [${pads.join(', ')}] with strides [${strides.join(', ')}] on a ${shape.h}×${shape.w} input are neither no padding nor tfjs's 'same' (${ah.same[0]} before and ${ah.same[1]} after in height, ${aw.same[0]} and ${aw.same[1]} in width)`);
    }
    if (ah.out < 1 || aw.out < 1) problem(node, `a ${kernel.join('×')} window does not fit a ${shape.h}×${shape.w} input`);
    if (!isConv && dilations.some((d) => d !== 1)) problem(node, 'is a dilated pool, which the spiking layers do not support');
    return { mode: mode ?? 'valid', strides, dilations, h: ah.out, w: aw.out, padded: pads.some((p) => p !== 0) || autoPad.startsWith('SAME') };
  };
  const outputUsed = (node: NodeProto, index: number) => {
    const name = node.output?.[index];
    return name !== undefined && name !== '' && (nodes.some((n) => n.input?.includes(name)) || (graph.output ?? []).some((o) => o.name === name));
  };

  const consumers = (tensor: string) => nodes.filter((n) => n.input?.includes(tensor) && n.opType !== 'Shape');
  const outputs = new Set((graph.output ?? []).map((o) => o.name ?? ''));
  const walked = new Set<NodeProto>();
  let tensor = inputName;
  dataShapes.set(tensor, onnxDims(shape));
  while (!outputs.has(tensor) && !halted) {
    const next = consumers(tensor);
    if (next.length === 0) {
      graphProblem(`the path from the input ends at '${tensor}', which is not the graph's output`);
      halted = true;
      break;
    }
    if (next.length > 1) {
      for (const n of next) problem(n, `reads '${tensor}' with ${next.length - 1} other node${next.length > 2 ? 's' : ''}: the graph branches here; a spiking chain has one path`);
      halted = true;
      break;
    }
    const node = next[0]!;
    if (walked.has(node)) {
      halt(node, 'is reached twice: the graph has a cycle');
      break;
    }
    walked.add(node);
    const op = node.opType ?? '';
    if (!LAYER_OPS.has(op)) {
      halted = true; // already reported
      break;
    }
    if (node.input?.[0] !== tensor && op !== 'Add') {
      halt(node, `takes the data as input ${node.input?.indexOf(tensor)}; only the first input may be the data`);
      break;
    }
    let out = node.output?.[0] ?? '';
    if (padding !== undefined && op !== 'Conv' && op !== 'Identity') {
      halt(node, 'follows a Pad; zero padding is supported only right before a Conv, into which it folds');
      break;
    }
    switch (op) {
      case 'Pad': {
        const pads = opset < 11 ? attrInts(node, 'pads') : node.input?.[1] ? constants.get(node.input[1])?.ints : undefined;
        const value = opset < 11 ? attrFloat(node, 'value', 0) : node.input?.[2] ? weightOf(node, 2, 'constant value').data[0] : 0;
        const rank = onnxDims(shape).length;
        if (pads === undefined || pads.length !== 2 * rank || node.input?.[3]) {
          halt(node, 'its pads are not a constant for every axis');
          break;
        }
        if (pads.every((p) => p === 0)) break; // as torch exports AvgPool2d: a Pad of nothing
        const spatial = rank === 4 && pads[0] === 0 && pads[1] === 0 && pads[4] === 0 && pads[5] === 0 && pads.every((p) => p >= 0);
        if (attrString(node, 'mode', 'constant') !== 'constant' || value !== 0 || !spatial) {
          halt(node, `pads [${pads.join(', ')}] (mode ${attrString(node, 'mode', 'constant')}, value ${value}): only zeros around the height and width of a map are supported`);
          break;
        }
        padding = [pads[2]!, pads[3]!, pads[6]!, pads[7]!];
        break;
      }
      case 'Conv': {
        const img = needImage(node);
        if (img === undefined) break;
        const w = weightOf(node, 1, 'weight');
        const [o, i, kh, kw] = w.dims;
        const group = attrInt(node, 'group', 1);
        if (w.dims.length !== 4 || i! * group !== img.c) throw disagree(node, 'its weight', w.dims, `[filters, ${img.c / group}, kh, kw] for its ${img.c}-channel input`);
        if (group !== 1) problem(node, `group = ${group}: grouped convolutions are not supported`);
        const win = window(node, [kh!, kw!], true);
        if (win === undefined) break;
        const bias = node.input?.[2] ? vectorOf(node, 2, 'bias', o!) : undefined;
        add(
          'Conv2D',
          { name: layerName(node), filters: o, kernel_size: [kh, kw], strides: win.strides, padding: win.mode, dilation_rate: win.dilations, data_format: 'channels_last', groups: group, activation: 'linear', use_bias: bias !== undefined },
          [['kernel', [kh!, kw!, i!, o!], convKernelToHwio(w.data, w.dims)], ...(bias === undefined ? [] : [['bias', [o!], bias] as [string, number[], Float32Array]])],
        );
        shape = { kind: 'image', c: o!, h: win.h, w: win.w };
        break;
      }
      case 'Gemm': {
        if (shape.kind !== 'flat') {
          halt(node, `needs a flat input but gets ${shape.c}×${shape.h}×${shape.w}; flatten it first`);
          break;
        }
        if (attrInt(node, 'transA', 0) !== 0) {
          halt(node, 'transA = 1 transposes the batch of data; only transA = 0 is a layer');
          break;
        }
        const b = weightOf(node, 1, 'weight');
        if (b.dims.length !== 2) throw disagree(node, 'its weight', b.dims, 'a matrix');
        const transB = attrInt(node, 'transB', 0) === 1;
        const [k, n] = transB ? [b.dims[1]!, b.dims[0]!] : [b.dims[0]!, b.dims[1]!];
        const alpha = attrFloat(node, 'alpha', 1);
        const kernel = (transB ? transpose(b.data, n, k) : Float32Array.from(b.data)).map((v) => v * alpha);
        let bias: Float32Array | undefined;
        if (node.input?.[2]) {
          const c = weightOf(node, 2, 'bias');
          if (c.data.length !== n && c.data.length !== 1) throw disagree(node, 'its bias', c.dims, `${n} values`);
          const beta = attrFloat(node, 'beta', 1);
          bias = Float32Array.from({ length: n }, (_, j) => beta * c.data[c.data.length === 1 ? 0 : j]!);
        }
        dense(node, kernel, k, n, bias);
        break;
      }
      case 'MatMul': {
        if (shape.kind !== 'flat') {
          halt(node, `needs a flat input but gets ${shape.c}×${shape.h}×${shape.w}; flatten it first`);
          break;
        }
        const b = weightOf(node, 1, 'weight');
        if (b.dims.length !== 2) throw disagree(node, 'its weight', b.dims, 'a matrix');
        // A bias Add right after it is part of the same Dense layer.
        const after = consumers(out);
        const addNode = after.length === 1 && after[0]!.opType === 'Add' ? after[0]! : undefined;
        const biasName = addNode?.input?.find((i) => i !== out);
        const bias = biasName === undefined ? undefined : constants.get(biasName);
        if (addNode !== undefined && bias !== undefined) {
          if (bias.data.length !== b.dims[1]) throw disagree(addNode, 'its bias', bias.dims, `${b.dims[1]} values`);
          walked.add(addNode);
          out = addNode.output?.[0] ?? '';
        }
        dense(node, Float32Array.from(b.data), b.dims[0]!, b.dims[1]!, addNode !== undefined && bias !== undefined ? Float32Array.from(bias.data) : undefined);
        break;
      }
      case 'Add':
        halt(node, 'adds something other than the bias of a MatMul (a residual connection?); a spiking chain has one path');
        break;
      case 'Relu':
      case 'Sigmoid':
        add('Activation', { name: layerName(node), activation: op === 'Relu' ? 'relu' : 'sigmoid' });
        break;
      case 'Clip': {
        const bound = (i: number, attr: string, fallback: number) => (opset < 11 ? attrFloat(node, attr, fallback) : node.input?.[i] ? weightOf(node, i, attr).data[0] ?? fallback : fallback);
        const lo = bound(1, 'min', -Infinity);
        const hi = bound(2, 'max', Infinity);
        const last = layers.at(-1);
        const afterRelu = last?.class_name === 'Activation' && last.config.activation === 'relu';
        // F.relu6 exports as Relu then Clip(−∞ or 0, 6): on ReLU's output that is ReLU6.
        if (afterRelu && lo <= 0 && hi === 6) last.config.activation = 'relu6';
        else if (lo === 0 && (hi === 6 || hi === Infinity || hi >= 3.4e38)) add('Activation', { name: layerName(node), activation: hi === 6 ? 'relu6' : 'relu' });
        else problem(node, `Clip(${lo}, ${hi}) has no spiking counterpart (Clip(0, 6) is ReLU6)`);
        break;
      }
      case 'MaxPool':
      case 'AveragePool': {
        const img = needImage(node);
        if (img === undefined) break;
        if (outputUsed(node, 1)) problem(node, 'its indices output is used; only the pooled values are a layer');
        const kernel = attrInts(node, 'kernel_shape') ?? [];
        if (kernel.length !== 2) {
          halt(node, `kernel_shape [${kernel.join(', ')}] is not a 2-D window`);
          break;
        }
        const win = window(node, kernel, false);
        if (win === undefined) break;
        if (op === 'AveragePool' && win.padded && attrInt(node, 'count_include_pad', 0) === 1) problem(node, 'count_include_pad = 1 averages the padding in; tfjs pools exclude it');
        add(op === 'MaxPool' ? 'MaxPooling2D' : 'AveragePooling2D', { name: layerName(node), pool_size: kernel, strides: win.strides, padding: win.mode, data_format: 'channels_last' });
        shape = { kind: 'image', c: img.c, h: win.h, w: win.w };
        break;
      }
      case 'GlobalAveragePool':
      case 'GlobalMaxPool': {
        const img = needImage(node);
        if (img === undefined) break;
        add(op === 'GlobalMaxPool' ? 'GlobalMaxPooling2D' : 'GlobalAveragePooling2D', { name: layerName(node), data_format: 'channels_last' });
        shape = { kind: 'image', c: img.c, h: 1, w: 1, collapsed: true };
        break;
      }
      case 'Flatten': {
        const axis = attrInt(node, 'axis', 1);
        if (axis !== 1 && axis !== 1 - onnxDims(shape).length) halt(node, `flattens from axis ${axis}; only axis 1 (keep the batch) is a layer`);
        else flatten(node);
        break;
      }
      case 'Reshape': {
        const target = constants.get(node.input?.[1] ?? '')?.ints;
        const total = shape.kind === 'flat' ? shape.n : shape.c * shape.h * shape.w;
        const first = target?.[0];
        const flat = target !== undefined && target.length === 2 && (target[1] === total || (target[1] === -1 && first !== -1)) && (first === BATCH || first === 0 || first === -1 || (first === 1 && sizes[0] === 1));
        if (target === undefined) halt(node, 'its target shape is computed at run time');
        else if (!flat) halt(node, `reshapes to [${target.map((t) => (t === BATCH ? 'batch' : t)).join(', ')}]; only flattening to [batch, ${total}] is a layer`);
        else flatten(node);
        break;
      }
      case 'BatchNormalization': {
        if (outputUsed(node, 1) || attrInt(node, 'training_mode', 0) === 1) {
          problem(node, 'is in training mode; export the model in eval mode (model.eval())');
          break;
        }
        if (shape.kind === 'image' && shape.collapsed) {
          halt(node, 'follows a global pool; only Flatten may');
          break;
        }
        const channels = shape.kind === 'image' ? shape.c : shape.n;
        const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((i) => vectorOf(node, i, ['scale', 'bias', 'mean', 'variance'][i - 1]!, channels));
        const reorder = (v: Float32Array) => (shape.kind === 'flat' && permutation !== undefined ? permuteRows(v, 1, permutation) : v);
        add(
          'BatchNormalization',
          { name: layerName(node), axis: -1, epsilon: attrFloat(node, 'epsilon', 1e-5), momentum: attrFloat(node, 'momentum', 0.9), center: true, scale: true },
          [['gamma', [channels], reorder(gamma!)], ['beta', [channels], reorder(beta!)], ['moving_mean', [channels], reorder(mean!)], ['moving_variance', [channels], reorder(variance!)]],
        );
        break;
      }
      case 'Dropout': {
        if (outputUsed(node, 1)) problem(node, 'its mask output is used; only the dropped-out values are a layer');
        const rate = opset < 12 ? attrFloat(node, 'ratio', 0.5) : node.input?.[1] ? weightOf(node, 1, 'ratio').data[0] ?? 0.5 : 0.5;
        add('Dropout', { name: layerName(node), rate });
        break;
      }
      case 'Identity':
        break;
      case 'Softmax':
      case 'LogSoftmax': {
        const axis = attrInt(node, 'axis', opset < 13 ? 1 : -1);
        if (shape.kind !== 'flat' || (axis !== 1 && axis !== -1)) problem(node, `${op} over anything but the classes of a flat vector is not supported`);
        else if (op === 'LogSoftmax' && !outputs.has(out)) problem(node, 'log-softmax is supported only as the last op, on the classifier');
        // PyTorch's F.log_softmax head: read as softmax — the same class for every input, and sharpen starts its head from the classifier's logits, before either.
        else add('Activation', { name: layerName(node), activation: 'softmax' });
        break;
      }
    }
    tensor = out;
    dataShapes.set(tensor, onnxDims(shape));
  }
  if (!halted) {
    for (const node of nodes) {
      if (!walked.has(node) && !constants.evaluated.has(node) && node.opType !== 'Shape') problem(node, 'is not on the path from the input to the output');
    }
  }
  return { layers, weights, problems };
}
