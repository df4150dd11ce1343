/**
 * Keras model configs in the form tfjs-layers reads (Keras 2's, as the tensorflowjs converter
 * writes it). Keras 3 (`config.json` in a `.keras` file, and `model_config` of a `.h5` saved by
 * Keras 3) differs in a few places, each normalised here:
 *
 * - every serialised object carries `module` and `registered_name` (dropped);
 * - `dtype` is a DTypePolicy object (`{class_name: 'DTypePolicy', config: {name: 'float32'}}` → 'float32');
 * - InputLayer declares `batch_shape` (→ `batch_input_shape`);
 * - a functional layer's `inbound_nodes` are `[{args: [keras tensors], kwargs}]`, each tensor naming
 *   its source as `config.keras_history = [layer, node, tensor]` (→ `[[[layer, node, tensor, {}]]]`);
 * - a single input/output may be written `["input_layer", 0, 0]` instead of a list of them.
 *
 * Keras 2 configs pass through unchanged.
 */

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Drops Keras 3's serialisation bookkeeping from an object tree and flattens dtype policies. */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (!isObject(value)) return value;
  if (value.class_name === 'DTypePolicy' || value.class_name === 'DTypePolicyMap') {
    const name = isObject(value.config) ? value.config.name : undefined;
    return typeof name === 'string' ? name : 'float32';
  }
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'module' || k === 'registered_name' || k === 'build_config' || k === 'compile_config') continue;
    out[k] = plain(v);
  }
  return out;
}

/** The Keras tensors (their `keras_history`) anywhere inside a Keras 3 call's arguments. */
function historiesIn(value: unknown, found: unknown[][] = []): unknown[][] {
  if (Array.isArray(value)) for (const v of value) historiesIn(v, found);
  else if (isObject(value)) {
    if (value.class_name === '__keras_tensor__' && isObject(value.config) && Array.isArray(value.config.keras_history)) found.push(value.config.keras_history);
    else for (const v of Object.values(value)) historiesIn(v, found);
  }
  return found;
}

function inboundNodes(nodes: unknown): unknown {
  if (!Array.isArray(nodes)) return nodes;
  return nodes.map((node) => {
    if (!isObject(node)) return node; // Keras 2: already [[name, node, tensor, kwargs], …]
    return historiesIn(node.args).map(([layer, index, tensor]) => [layer, index ?? 0, tensor ?? 0, {}]);
  });
}

/** `["in", 0, 0]` → `[["in", 0, 0]]`. */
function tensorList(value: unknown): unknown {
  return Array.isArray(value) && typeof value[0] === 'string' ? [value] : value;
}

function layer(entry: unknown): unknown {
  if (!isObject(entry)) return entry;
  const config = plain(entry.config);
  if (isObject(config) && entry.class_name === 'InputLayer' && config.batch_input_shape === undefined && Array.isArray(config.batch_shape)) {
    config.batch_input_shape = config.batch_shape;
    delete config.batch_shape;
  }
  const out: Json = { class_name: entry.class_name, config };
  if (typeof entry.name === 'string') out.name = entry.name;
  else if (isObject(config) && typeof config.name === 'string') out.name = config.name;
  if (entry.inbound_nodes !== undefined) out.inbound_nodes = inboundNodes(entry.inbound_nodes);
  return out;
}

/** A Keras 2 or 3 model config (`{class_name, config}`) in the Keras 2 form tfjs loads. */
export function kerasModelConfig(model: unknown): unknown {
  if (!isObject(model) || !isObject(model.config)) return model;
  const config: Json = { ...model.config };
  if (Array.isArray(config.layers)) config.layers = config.layers.map(layer);
  for (const k of ['input_layers', 'output_layers']) if (config[k] !== undefined) config[k] = tensorList(config[k]);
  // A Keras 3 Sequential built without an Input layer keeps its input shape only in its build config.
  const built = isObject(model.build_config) ? model.build_config.input_shape : config.build_input_shape;
  const first = Array.isArray(config.layers) ? (config.layers[0] as { class_name?: unknown; config?: Json } | undefined) : undefined;
  if (model.class_name === 'Sequential' && Array.isArray(built) && first?.class_name !== 'InputLayer' && isObject(first?.config) && first.config.batch_input_shape === undefined) {
    first.config.batch_input_shape = built;
  }
  for (const k of ['trainable', 'dtype', 'build_input_shape']) delete config[k];
  return { class_name: model.class_name, config };
}

/** The weights a layer class holds, in the order Keras creates (and saves) them. */
export function weightNames(className: string, config: Json): string[] {
  switch (className) {
    case 'Dense':
    case 'Conv2D':
      return config.use_bias === false ? ['kernel'] : ['kernel', 'bias'];
    case 'BatchNormalization':
      return [...(config.scale === false ? [] : ['gamma']), ...(config.center === false ? [] : ['beta']), 'moving_mean', 'moving_variance'];
    default:
      return [];
  }
}

/** Keras 3's `naming.to_snake_case` (keras/src/utils/naming.py), which names a layer's weights group. */
export function kerasSnakeCase(name: string): string {
  return name
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}
