/**
 * The conversion plan: how a stock layers model becomes a Whetstone model, decided from its JSON
 * alone (no tfjs), and every reason it cannot be — collected, not thrown one at a time, so the
 * user sees all offending layers in one message.
 *
 *   Conv2D/Dense (activation relu | relu6)        → the same layer, linear, + sharpened bounded ReLU
 *   Conv2D/Dense (activation sigmoid | hard_sigmoid) → the same layer, linear, + sharpened sigmoid
 *   Activation / ReLU layer (relu, relu6, sigmoid) → the spiking layer of the layer before it
 *   BatchNormalization right after Conv2D/Dense    → kept for fine-tuning, folded at the end
 *   Dropout                                        → kept for fine-tuning, removed at the end
 *   MaxPooling2D, AveragePooling2D, Flatten        → kept (the spiking converter's rules apply)
 *   GlobalAverage/MaxPooling2D                     → a pool over the whole map + Flatten
 *   last Dense (softmax, or linear logits)         → the head: Dense(classes × n) + spiking + SoftmaxDecode
 */
import type { LayerConfig } from '../../config/schema.js';
import type { ImageShape } from '../../data/types.js';
import type { LayerProblem, SourceLayer, SourceModel } from './source.js';

export type SpikingKind = 'brelu' | 'sigmoid';

export type PlanStep =
  /** The source model takes a flat vector: flatten the dataset's images first. */
  | { readonly op: 'input_flatten'; readonly name: string }
  /** Copy the layer with its weights (Conv2D/Dense with their activation removed). */
  | { readonly op: 'copy'; readonly source: SourceLayer }
  /** A global pooling layer, rewritten as a pool over the whole map followed by Flatten. */
  | { readonly op: 'global_pool'; readonly source: SourceLayer; readonly pool: 'max' | 'avg'; readonly size: readonly [number, number]; readonly flatten: boolean }
  | {
      readonly op: 'spiking';
      readonly name: string;
      readonly activation: SpikingKind;
      /** The source layer the activation came from (an Activation/ReLU layer, or the Conv2D/Dense whose argument it was). */
      readonly from: SourceLayer;
      /** The Conv2D/Dense whose weighted sums this layer thresholds. */
      readonly linear: string;
      /** Where the pre-activation is last scaled: the batch norm after the linear layer, or the linear layer itself. */
      readonly scaleAt: string;
      /** The next Conv2D/Dense, which reads these spikes; 'head' for the classifier. */
      readonly consumer: string;
    };

export interface ConversionPlan {
  /** The hidden part of the new model, input side first (the head is added after it). */
  readonly steps: readonly PlanStep[];
  /** The source classifier: its Dense layer and how many units feed it. */
  readonly head: { readonly source: SourceLayer; readonly inputUnits: number };
  /** Activation of the output spiking layer: that of the last hidden one (brelu if there is none). */
  readonly outputActivation: SpikingKind;
  /** The hidden layers as an experiment config's `model.layers` describes them. */
  readonly layers: readonly LayerConfig[];
}

export interface PlanTarget {
  readonly shape: ImageShape;
  readonly classes: number;
  /** Dataset name, for messages. */
  readonly dataset: string;
  readonly inputEncoding: 'binary' | 'analog';
}

type Json = Record<string, unknown>;

const SPIKING: Record<string, SpikingKind> = { relu: 'brelu', relu6: 'brelu', sigmoid: 'sigmoid', hard_sigmoid: 'sigmoid', hardSigmoid: 'sigmoid' };
const SUPPORTED_ACTIVATIONS = 'relu, relu6, sigmoid, hard_sigmoid';

const MERGE = new Set(['Add', 'Concatenate', 'Multiply', 'Subtract', 'Average', 'Maximum', 'Minimum', 'Dot']);
const RECURRENT = new Set(['LSTM', 'GRU', 'SimpleRNN', 'RNN', 'Bidirectional', 'ConvLSTM2D', 'TimeDistributed', 'LSTMCell', 'GRUCell', 'SimpleRNNCell', 'StackedRNNCells']);
const DEPTHWISE = new Set(['DepthwiseConv2D', 'SeparableConv2D', 'SeparableConv1D']);
const ACTIVATION_LAYERS = new Set(['Activation', 'ReLU', 'Softmax', 'LeakyReLU', 'PReLU', 'ELU', 'ThresholdedReLU']);

/** `relu`, or the name inside Keras's newer `{class_name: 'function', config: 'relu'}` form. */
export function activationName(value: unknown): string {
  if (value === undefined || value === null) return 'linear';
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) {
    const v = value as Json;
    if (typeof v.config === 'string') return v.config;
    if (typeof v.class_name === 'string') return v.class_name;
  }
  return String(value);
}

/** The activation an Activation-like layer applies: `relu`, `leaky_relu`, … */
function layerActivation(layer: SourceLayer): string {
  const c = layer.config;
  switch (layer.className) {
    case 'Activation':
      return activationName(c.activation);
    case 'ReLU': {
      const slope = typeof c.negative_slope === 'number' ? c.negative_slope : 0;
      const threshold = typeof c.threshold === 'number' ? c.threshold : 0;
      if (slope !== 0) return 'leaky_relu';
      if (threshold !== 0) return `relu with threshold ${threshold}`;
      return c.max_value === 6 ? 'relu6' : 'relu';
    }
    case 'Softmax':
      return 'softmax';
    case 'LeakyReLU':
      return 'leaky_relu';
    case 'ThresholdedReLU':
      return 'thresholded_relu';
    case 'PReLU':
    case 'ELU':
      return layer.className.toLowerCase();
    default:
      return c.activation === undefined ? layer.className.toLowerCase() : activationName(c.activation);
  }
}

const pairOf = (v: unknown, fallback: number): [number, number] =>
  typeof v === 'number' ? [v, v] : Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'number' ? [v[0], v[1]] : [fallback, fallback];

function windowOut(n: number, k: number, s: number, padding: unknown): number {
  return padding === 'same' ? Math.ceil(n / s) : Math.floor((n - k) / s) + 1;
}

/** Problems a layer has whatever its neighbours: unsupported classes, activations, options. */
function classProblem(layer: SourceLayer): string | undefined {
  const cls = layer.className;
  const c = layer.config;
  if (MERGE.has(cls)) return `merges branches (${cls === 'Add' ? 'a residual connection' : 'a multi-path network'}); a spiking chain has one path`;
  if (RECURRENT.has(cls)) return 'is recurrent; Whetstone neurons are memoryless (no state from one step to the next)';
  if (DEPTHWISE.has(cls)) return 'is a depthwise convolution, which the spiking layers do not support; use Conv2D';
  if (ACTIVATION_LAYERS.has(cls)) {
    const a = layerActivation(layer);
    if (a === 'softmax' || SPIKING[a] !== undefined || a === 'linear') return undefined;
    return `activation '${a}' has no spiking counterpart (supported: ${SUPPORTED_ACTIVATIONS})`;
  }
  if (cls === 'Conv2D' || cls === 'Dense') {
    const a = activationName(c.activation);
    if (a !== 'linear' && a !== 'softmax' && SPIKING[a] === undefined) return `activation '${a}' has no spiking counterpart (supported: ${SUPPORTED_ACTIVATIONS})`;
    if (cls === 'Conv2D') {
      if ((c.data_format ?? 'channels_last') !== 'channels_last') return 'is channels-first; only channels-last (NHWC) convolutions are supported';
      const d = pairOf(c.dilation_rate, 1);
      if (d[0] !== 1 || d[1] !== 1) return 'is a dilated convolution, which the spiking layers do not support';
      if (typeof c.groups === 'number' && c.groups !== 1) return 'is a grouped convolution, which the spiking layers do not support';
    }
    return undefined;
  }
  if (cls === 'MaxPooling2D' || cls === 'AveragePooling2D' || cls === 'GlobalAveragePooling2D' || cls === 'GlobalMaxPooling2D' || cls === 'Flatten') {
    if ((c.data_format ?? 'channels_last') !== 'channels_last') return 'is channels-first; only channels-last (NHWC) is supported';
    return undefined;
  }
  if (cls === 'BatchNormalization' || cls === 'Dropout' || cls === 'InputLayer') return undefined;
  return 'has no spiking equivalent';
}

/** Turns collected problems into the one message that refuses the model. */
export function formatProblems(file: string, problems: readonly LayerProblem[]): string {
  const byLayer = new Map<string, { className: string; messages: string[] }>();
  for (const p of problems) {
    const key = `${p.layer}\u0000${p.className}`;
    const entry = byLayer.get(key) ?? { className: p.className, messages: [] };
    if (!entry.messages.includes(p.message)) entry.messages.push(p.message);
    byLayer.set(key, entry);
  }
  const n = byLayer.size;
  // One offending layer: one line, as every other refusal of bad input.
  if (n === 1) {
    const [key, e] = [...byLayer][0]!;
    return `${file}: cannot sharpen this model: ${key.split('\u0000')[0]} (${e.className}): ${e.messages.join('; ')}`;
  }
  const lines = [`${file}: cannot sharpen this model: ${n} layer${n === 1 ? '' : 's'} ${n === 1 ? 'has' : 'have'} no spiking counterpart`];
  for (const [key, e] of byLayer) lines.push(`  ${key.split('\u0000')[0]} (${e.className}): ${e.messages.join('; ')}`);
  return lines.join('\n');
}

/**
 * Decides the conversion. Returns the plan, or every problem found (never both).
 */
export function planConversion(source: SourceModel, target: PlanTarget): { plan?: ConversionPlan; problems: LayerProblem[] } {
  const problems: LayerProblem[] = [...source.problems];
  const problem = (layer: { name: string; className: string }, message: string) => problems.push({ layer: layer.name, className: layer.className, message });
  const structural = new Set(source.problems.map((p) => p.layer));
  for (const layer of source.layers) {
    const why = classProblem(layer);
    // A merge layer already reported as merging branches needs no second line.
    if (why !== undefined && !(structural.has(layer.name) && MERGE.has(layer.className))) problem(layer, why);
  }
  if (source.problems.length > 0) return { problems };

  const [H, W, C] = target.shape;
  const steps: PlanStep[] = [];
  const layers: LayerConfig[] = [];
  const taken = new Set(source.layers.map((l) => l.name));
  const fresh = (base: string) => {
    let name = base;
    for (let i = 2; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    return name;
  };

  // The input: the dataset's images, as the model declares them.
  let shape: number[] = [H, W, C];
  const declared = source.inputShape;
  const fits = (d: number | null | undefined, n: number) => d === null || d === undefined || d === n;
  const want = `${H}×${W}×${C}`;
  if (declared === undefined) {
    problem(source.inputLayer, 'declares no input shape');
  } else if (declared.length === 1 && fits(declared[0], H * W * C)) {
    steps.push({ op: 'input_flatten', name: fresh('input_flatten') });
    layers.push({ type: 'flatten' });
    shape = [H * W * C];
  } else if (!((declared.length === 3 && fits(declared[0], H) && fits(declared[1], W) && fits(declared[2], C)) || (declared.length === 2 && C === 1 && fits(declared[0], H) && fits(declared[1], W)))) {
    problem(source.inputLayer, `input shape ${declared.map((d) => d ?? '?').join('×')} does not match the dataset ${target.dataset} (${want} images, or ${H * W * C} values flattened)`);
  }

  // The head: the last Dense, with softmax or linear logits.
  const linearAt = source.layers.map((l, i) => (l.className === 'Dense' || l.className === 'Conv2D' ? i : -1)).filter((i) => i >= 0);
  const headIndex = linearAt.at(-1);
  if (headIndex === undefined || source.layers[headIndex]!.className !== 'Dense') {
    const last = source.layers.at(-1)!;
    problem(headIndex === undefined ? last : source.layers[headIndex]!, 'the model must end in a Dense classifier (softmax, or linear logits)');
    return { problems };
  }
  const head = source.layers[headIndex]!;
  const headActivation = activationName(head.config.activation);
  let softmaxSeen = headActivation === 'softmax';
  if (headActivation !== 'softmax' && headActivation !== 'linear') {
    problem(head, `classifier activation '${headActivation}': expected softmax (or linear logits)`);
  }
  if (head.config.units !== target.classes) problem(head, `outputs ${String(head.config.units)} classes but the dataset ${target.dataset} has ${target.classes}`);
  for (const after of source.layers.slice(headIndex + 1)) {
    const a = ACTIVATION_LAYERS.has(after.className) ? layerActivation(after) : undefined;
    if (a === 'softmax' && !softmaxSeen) softmaxSeen = true;
    else if (after.className !== 'Dropout') problem(after, 'follows the classifier; only a softmax may come after the last Dense');
  }

  // The hidden layers.
  let pending: { layer: SourceLayer; direct: boolean; scaleAt: string } | undefined;
  let averageWaiting: SourceLayer | undefined;
  let seenLinear = false;
  // After a refused layer the shapes that follow are unknown: report no shape problems from there on.
  let shapeKnown = problems.length === 0;
  const shapeProblem = (layer: { name: string; className: string }, message: string) => {
    if (shapeKnown) problem(layer, message);
  };
  const spikingSteps: Extract<PlanStep, { op: 'spiking' }>[] = [];
  const needsImage = (layer: SourceLayer) => {
    if (shape.length !== 3) {
      shapeProblem(layer, `needs an image input but gets a flat vector of ${shape[0]}`);
      return false;
    }
    return true;
  };
  const addSpiking = (from: SourceLayer, kind: SpikingKind, name: string) => {
    const step = { op: 'spiking' as const, name, activation: kind, from, linear: pending!.layer.name, scaleAt: pending!.scaleAt, consumer: 'head' };
    steps.push(step);
    spikingSteps.push(step);
    layers.push({ type: 'spiking', activation: kind });
    pending = undefined;
  };
  const linearStep = (layer: SourceLayer) => {
    if (pending !== undefined) problem(pending.layer, `has no activation before ${layer.name}: two linear layers in a row have no spiking equivalent`);
    pending = undefined;
    // The previous spiking layer's spikes are read by this one.
    const last = spikingSteps.at(-1);
    if (last !== undefined && last.consumer === 'head') (last as { consumer: string }).consumer = layer.name;
    seenLinear = true;
  };

  for (const layer of source.layers.slice(0, headIndex)) {
    const c = layer.config;
    if (classProblem(layer) !== undefined) {
      pending = undefined;
      shapeKnown = false;
      continue;
    }
    if (averageWaiting !== undefined && !['Flatten', 'Dropout', 'Dense'].includes(layer.className)) {
      problem(averageWaiting, 'average pooling must be followed by [Flatten] Dense, into which it folds');
      averageWaiting = undefined;
    }
    switch (layer.className) {
      case 'Conv2D':
      case 'Dense': {
        averageWaiting = undefined;
        linearStep(layer);
        if (layer.className === 'Conv2D') {
          if (!needsImage(layer)) break;
          const k = pairOf(c.kernel_size, 1);
          const s = pairOf(c.strides, 1);
          const h = windowOut(shape[0]!, k[0], s[0], c.padding);
          const w = windowOut(shape[1]!, k[1], s[1], c.padding);
          if (h < 1 || w < 1) shapeProblem(layer, `a ${k[0]}×${k[1]} kernel does not fit a ${shape[0]}×${shape[1]} input`);
          shape = [h, w, Number(c.filters)];
          layers.push({ type: 'conv2d', filters: Number(c.filters), kernel_size: k, strides: s, padding: c.padding === 'same' ? 'same' : 'valid', use_bias: c.use_bias !== false });
        } else {
          if (shape.length !== 1) shapeProblem(layer, `needs a flat input but gets ${shape.join('×')}; add Flatten before it`);
          shape = [Number(c.units)];
          layers.push({ type: 'dense', units: Number(c.units), use_bias: c.use_bias !== false });
        }
        steps.push({ op: 'copy', source: layer });
        pending = { layer, direct: true, scaleAt: layer.name };
        const a = activationName(c.activation);
        if (a === 'softmax') {
          problem(layer, 'softmax is only supported on the classifier');
          pending = undefined;
        } else if (SPIKING[a] !== undefined) addSpiking(layer, SPIKING[a], fresh(`${layer.name}_spiking`));
        break;
      }
      case 'BatchNormalization': {
        if (pending === undefined || !pending.direct) {
          problem(layer, 'must directly follow a Conv2D or Dense without activation, so that it can be folded into it');
          break;
        }
        const axis = Array.isArray(c.axis) ? c.axis : [c.axis ?? -1];
        if (axis.length !== 1 || (axis[0] !== -1 && axis[0] !== shape.length)) {
          problem(layer, `normalises axis ${JSON.stringify(c.axis)}; only the channel axis can be folded`);
        }
        steps.push({ op: 'copy', source: layer });
        layers.push({ type: 'batch_norm', epsilon: typeof c.epsilon === 'number' ? c.epsilon : 1e-3, momentum: typeof c.momentum === 'number' ? c.momentum : 0.99 });
        pending = { ...pending, direct: false, scaleAt: layer.name };
        break;
      }
      case 'Activation':
      case 'ReLU':
      case 'Softmax': {
        const a = layerActivation(layer);
        if (a === 'linear') break;
        if (a === 'softmax') {
          problem(layer, 'softmax is only supported on the classifier');
          break;
        }
        if (pending === undefined) {
          problem(layer, 'has no Conv2D or Dense before it (spikes come from weighted sums)');
          break;
        }
        addSpiking(layer, SPIKING[a]!, layer.name);
        break;
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        if (!needsImage(layer)) break;
        const max = layer.className === 'MaxPooling2D';
        if (max && !seenLinear && target.inputEncoding === 'analog') {
          problem(layer, 'max pooling of analog input is not a spiking operation; use binary input encoding or pool after a spiking layer');
        }
        if (!max && pending !== undefined) problem(layer, 'average pooling between a layer and its activation is not supported; pool after the activation');
        const p = pairOf(c.pool_size, 2);
        const s = c.strides === null || c.strides === undefined ? p : pairOf(c.strides, 1);
        const h = windowOut(shape[0]!, p[0], s[0], c.padding);
        const w = windowOut(shape[1]!, p[1], s[1], c.padding);
        if (h < 1 || w < 1) shapeProblem(layer, `a ${p[0]}×${p[1]} window does not fit a ${shape[0]}×${shape[1]} input`);
        shape = [h, w, shape[2]!];
        steps.push({ op: 'copy', source: layer });
        layers.push({ type: max ? 'max_pool2d' : 'avg_pool2d', pool_size: p, strides: s, padding: c.padding === 'same' ? 'same' : 'valid' });
        if (pending !== undefined) pending = { ...pending, direct: false };
        if (!max) averageWaiting = layer;
        break;
      }
      case 'GlobalAveragePooling2D':
      case 'GlobalMaxPooling2D': {
        if (!needsImage(layer)) break;
        const max = layer.className === 'GlobalMaxPooling2D';
        if (max && !seenLinear && target.inputEncoding === 'analog') problem(layer, 'max pooling of analog input is not a spiking operation');
        if (!max && pending !== undefined) problem(layer, 'average pooling between a layer and its activation is not supported; pool after the activation');
        const size = [shape[0]!, shape[1]!] as const;
        const flatten = c.keepdims !== true;
        steps.push({ op: 'global_pool', source: layer, pool: max ? 'max' : 'avg', size, flatten });
        layers.push({ type: max ? 'max_pool2d' : 'avg_pool2d', pool_size: [...size], strides: [...size], padding: 'valid' });
        if (flatten) layers.push({ type: 'flatten' });
        shape = flatten ? [shape[2]!] : [1, 1, shape[2]!];
        if (pending !== undefined) pending = { ...pending, direct: false };
        if (!max) averageWaiting = layer;
        break;
      }
      case 'Flatten':
        steps.push({ op: 'copy', source: layer });
        layers.push({ type: 'flatten' });
        shape = [shape.reduce((a, b) => a * b, 1)];
        if (pending !== undefined) pending = { ...pending, direct: false };
        break;
      case 'Dropout':
        steps.push({ op: 'copy', source: layer });
        layers.push({ type: 'dropout', rate: typeof c.rate === 'number' ? c.rate : 0 });
        if (pending !== undefined) pending = { ...pending, direct: false };
        break;
      default:
        break; // InputLayer
    }
  }
  if (pending !== undefined) problem(pending.layer, `has no activation before the classifier ${head.name}: two linear layers in a row have no spiking equivalent`);
  if (shape.length !== 1) shapeProblem(head, `needs a flat input but gets ${shape.join('×')}; add Flatten before it`);
  if (problems.length > 0) return { problems };
  return {
    plan: { steps, head: { source: head, inputUnits: shape[0]! }, outputActivation: spikingSteps.at(-1)?.activation ?? 'brelu', layers },
    problems,
  };
}
