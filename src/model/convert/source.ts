/**
 * Reads the architecture of a stock TensorFlow.js layers model from its `modelTopology` JSON,
 * before any tfjs work: the layers as a chain, input side first, with their (pythonic,
 * snake_case) configs. Both forms are read:
 *
 * - tfjs's own `model.save` output: `modelTopology = {class_name, config}`;
 * - the tensorflowjs converter's output for Keras 2: `modelTopology = {keras_version, backend,
 *   model_config: {class_name, config}, training_config}` (old Keras wrote a Sequential's config
 *   as the bare list of layers).
 *
 * A Sequential model is a chain by construction. A functional model (`Model`, `Functional`) is
 * accepted when it is one: one input, one output, every layer fed by exactly one tensor of the
 * layer before it and feeding at most one layer. Anything else is described, layer by layer, as
 * problems — so that the caller can refuse the model with one message that names them all.
 */

type Json = Record<string, unknown>;

/** One layer of the source model, as its JSON describes it. */
export interface SourceLayer {
  readonly name: string;
  /** Keras/tfjs class name: `Conv2D`, `Dense`, `Activation`, … */
  readonly className: string;
  /** The layer's config in the file's snake_case form (`kernel_size`, `activation`, …). */
  readonly config: Json;
}

/** A problem with one layer (or with the model as a whole, when `layer` is the model's name). */
export interface LayerProblem {
  readonly layer: string;
  readonly className: string;
  readonly message: string;
}

/** The file a model came from: tfjs `model.save`, the tensorflowjs converter's Keras 2 output, ONNX, a Keras 3 `.keras`, a legacy Keras `.h5`. */
export type SourceFormat = 'tfjs' | 'keras' | 'onnx' | 'keras3' | 'keras-h5';

export interface SourceModel {
  /** `keras` for the tensorflowjs converter's output (a `model_config` wrapper), else `tfjs` (importers set their own). */
  readonly format: SourceFormat;
  readonly className: string;
  readonly name: string;
  /** The layers in order, input side first, without the InputLayer. */
  readonly layers: readonly SourceLayer[];
  /** The model's input shape without the batch dimension (null for a free dimension). */
  readonly inputShape: readonly (number | null)[] | undefined;
  /** The layer that declares the input shape (the InputLayer, or the first layer), for messages. */
  readonly inputLayer: { readonly name: string; readonly className: string };
  /** Structural problems (branches, merges, nested models); empty when the layers form a chain. */
  readonly problems: readonly LayerProblem[];
}

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Reads `batch_input_shape` (or Keras's `input_shape`/`batch_shape`) of a layer config. */
function declaredInputShape(config: Json): (number | null)[] | undefined {
  const batch = config.batch_input_shape ?? config.batch_shape;
  if (Array.isArray(batch)) return batch.slice(1).map((d) => (typeof d === 'number' ? d : null));
  const shape = config.input_shape;
  if (Array.isArray(shape)) return shape.map((d) => (typeof d === 'number' ? d : null));
  return undefined;
}

function layerOf(entry: unknown, index: number): SourceLayer {
  if (!isObject(entry) || typeof entry.class_name !== 'string' || !isObject(entry.config)) {
    throw new SourceFormatError(`layer ${index} is not a {class_name, config} object`);
  }
  const name = typeof entry.config.name === 'string' ? entry.config.name : typeof entry.name === 'string' ? entry.name : `layer_${index}`;
  return { name, className: entry.class_name, config: entry.config };
}

/** The file is not a layers model we can read at all (as opposed to one with unsupported layers). */
export class SourceFormatError extends Error {}

const NESTED_MODELS = new Set(['Sequential', 'Model', 'Functional']);

function nestedProblems(layers: readonly SourceLayer[]): LayerProblem[] {
  return layers
    .filter((l) => NESTED_MODELS.has(l.className))
    .map((l) => ({ layer: l.name, className: l.className, message: 'is a nested model; save the model with its layers inlined' }));
}

function readSequential(config: unknown): Pick<SourceModel, 'layers' | 'inputShape' | 'inputLayer' | 'problems' | 'name'> {
  const list = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
  if (!Array.isArray(list)) throw new SourceFormatError('a Sequential model needs a list of layers');
  const all = list.map(layerOf);
  if (all.length === 0) throw new SourceFormatError('the model has no layers');
  const first = all[0]!;
  const layers = first.className === 'InputLayer' ? all.slice(1) : all;
  const name = isObject(config) && typeof config.name === 'string' ? config.name : 'sequential';
  return {
    name,
    layers,
    inputShape: declaredInputShape(first.config),
    inputLayer: { name: first.name, className: first.className },
    problems: nestedProblems(layers),
  };
}

/** `[[["dense_1", 0, 0, {}]]]` → the names of the layers feeding each call of this layer. */
function inboundNames(entry: Json, layer: string): string[][] {
  const nodes = entry.inbound_nodes;
  if (!Array.isArray(nodes)) return [];
  return nodes.map((node) => {
    if (!Array.isArray(node)) throw new SourceFormatError(`layer ${layer}: inbound_nodes are not in the Keras 2 form [[name, node, tensor, kwargs], …]`);
    return node.map((t) => {
      if (!Array.isArray(t) || typeof t[0] !== 'string') throw new SourceFormatError(`layer ${layer}: inbound_nodes are not in the Keras 2 form [[name, node, tensor, kwargs], …]`);
      return t[0];
    });
  });
}

function readFunctional(config: unknown): Pick<SourceModel, 'layers' | 'inputShape' | 'inputLayer' | 'problems' | 'name'> {
  if (!isObject(config) || !Array.isArray(config.layers)) throw new SourceFormatError('a functional model needs a list of layers');
  const entries = config.layers as unknown[];
  const all = entries.map(layerOf);
  const byName = new Map(all.map((l) => [l.name, l]));
  const inputs = Array.isArray(config.input_layers) ? config.input_layers : [];
  const outputs = Array.isArray(config.output_layers) ? config.output_layers : [];
  const name = typeof config.name === 'string' ? config.name : 'model';
  const problems: LayerProblem[] = [];
  const modelProblem = (message: string) => problems.push({ layer: name, className: 'Model', message });
  if (inputs.length !== 1) modelProblem(`has ${inputs.length} inputs; a spiking chain has one`);
  if (outputs.length !== 1) modelProblem(`has ${outputs.length} outputs; a spiking chain has one`);

  const feeders = new Map<string, string[]>(); // layer → the layers it takes tensors from
  const consumers = new Map<string, string[]>(); // layer → the layers that take its output
  entries.forEach((entry, i) => {
    const layer = all[i]!;
    const nodes = inboundNames(entry as Json, layer.name);
    if (nodes.length > 1) {
      problems.push({ layer: layer.name, className: layer.className, message: `is called ${nodes.length} times (a shared layer); a spiking chain uses each layer once` });
    }
    const from = nodes.flat();
    feeders.set(layer.name, from);
    for (const f of from) consumers.set(f, [...(consumers.get(f) ?? []), layer.name]);
  });
  for (const layer of all) {
    const from = feeders.get(layer.name) ?? [];
    if (from.length > 1) {
      problems.push({ layer: layer.name, className: layer.className, message: `merges ${from.length} branches (${from.join(', ')}); a spiking chain has one path` });
    }
    const to = consumers.get(layer.name) ?? [];
    if (to.length > 1) {
      problems.push({ layer: layer.name, className: layer.className, message: `feeds ${to.length} layers (${to.join(', ')}): the model branches here` });
    }
  }

  // Walk the chain from the input.
  const firstName = Array.isArray(inputs[0]) && typeof inputs[0][0] === 'string' ? inputs[0][0] : all.find((l) => l.className === 'InputLayer')?.name;
  const input = firstName === undefined ? undefined : byName.get(firstName);
  const chain: SourceLayer[] = [];
  if (problems.length === 0 && input !== undefined) {
    let next = consumers.get(input.name)?.[0];
    const seen = new Set<string>([input.name]);
    while (next !== undefined && !seen.has(next)) {
      seen.add(next);
      chain.push(byName.get(next)!);
      next = consumers.get(next)?.[0];
    }
    const unreached = all.filter((l) => !seen.has(l.name));
    for (const l of unreached) problems.push({ layer: l.name, className: l.className, message: 'is not on the path from the input to the output' });
  }
  const layers = problems.length === 0 ? chain : all.filter((l) => l.className !== 'InputLayer');
  return {
    name,
    layers,
    inputShape: input === undefined ? undefined : declaredInputShape(input.config),
    inputLayer: input === undefined ? { name, className: 'Model' } : { name: input.name, className: input.className },
    problems: [...problems, ...nestedProblems(layers)],
  };
}

/**
 * Reads the `modelTopology` of a layers model.json.
 * @throws SourceFormatError when it is not a Sequential or functional layers model at all.
 */
export function readSourceModel(modelTopology: unknown): SourceModel {
  if (!isObject(modelTopology)) throw new SourceFormatError('modelTopology is not an object');
  const keras = isObject(modelTopology.model_config);
  const top = keras ? (modelTopology.model_config as Json) : modelTopology;
  const className = top.class_name;
  if (typeof className !== 'string') throw new SourceFormatError('modelTopology has no class_name');
  let read;
  if (className === 'Sequential') read = readSequential(top.config);
  else if (className === 'Model' || className === 'Functional') read = readFunctional(top.config);
  else throw new SourceFormatError(`'${className}' is not a Sequential or functional model`);
  return { format: keras ? 'keras' : 'tfjs', className, ...read };
}
