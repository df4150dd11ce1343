/**
 * The artifact on disk: `network.json` (structure, key, class names, where each array lives)
 * + `weights.bin` (every array, little-endian float32, back to back). Format: docs/snn-format.md.
 * Loading validates everything — JSON shape, offsets, sizes, finiteness, shapes between layers —
 * and reports the first problem as one InputError line naming the file. No tfjs here.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import {
  SNN_FORMAT,
  SNN_FORMAT_VERSION,
  latencySteps,
  type Conv2dLayer,
  type DenseLayer,
  type OrPoolLayer,
  type Padding2d,
  type Shape3,
  type SnnLayer,
  type SpikingNetwork,
} from './network.js';
import { validateNetwork } from './validate.js';

export const NETWORK_FILE = 'network.json';
export const WEIGHTS_FILE = 'weights.bin';
/** Sub-directory of a run directory that holds the artifact. */
export const RUN_SNN_DIR = 'snn';
/** network.json holds no weights; anything this large is not one. */
const MAX_NETWORK_JSON_BYTES = 64 * 1024 * 1024;

// ───────────────────────── JSON schema of network.json ─────────────────────────

const posInt = z.number().int().positive();
const shape3 = z.tuple([posInt, posInt, posInt]);
const pair = z.tuple([posInt, posInt]);
const padding = z.strictObject({ top: z.number().int().min(0), bottom: z.number().int().min(0), left: z.number().int().min(0), right: z.number().int().min(0) });
const tensorRef = z.strictObject({
  offset: z.number().int().min(0),
  shape: z.array(z.number().int().min(0)).min(1),
  layout: z.string().optional(),
});
const neuronBase = { name: z.string(), source: z.array(z.string()).default([]), step: posInt };

const layerJson = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('flatten'), name: z.string(), input_shape: shape3, order: z.literal('hwc') }),
  z.strictObject({
    type: z.literal('dense'),
    ...neuronBase,
    input_size: posInt,
    units: posInt,
    weights: tensorRef,
    bias: tensorRef,
    threshold: tensorRef,
  }),
  z.strictObject({
    type: z.literal('conv2d'),
    ...neuronBase,
    input_shape: shape3,
    output_shape: shape3,
    kernel: pair,
    strides: pair,
    padding,
    weights: tensorRef,
    bias: tensorRef,
    threshold: tensorRef,
  }),
  z.strictObject({
    type: z.literal('or_pool2d'),
    ...neuronBase,
    input_shape: shape3,
    output_shape: shape3,
    pool: pair,
    strides: pair,
    padding,
  }),
]);

const networkJson = z.strictObject({
  format: z.literal(SNN_FORMAT),
  version: z.number().int(),
  name: z.string(),
  generated_by: z.string().optional(),
  input: z.strictObject({
    shape: shape3,
    layout: z.literal('hwc'),
    encoding: z.enum(['binary', 'analog']),
    threshold: z.number().min(0).max(1).optional(),
    pixel_scale: z.literal('byte/255'),
  }),
  timing: z.strictObject({ steps: posInt, delay_per_layer: z.literal(1) }),
  layers: z.array(layerJson).min(1),
  output: z.strictObject({ key: z.array(z.array(z.number())).min(1), class_names: z.array(z.string()).min(1) }),
  weights: z.strictObject({
    file: z.string().min(1),
    dtype: z.literal('float32'),
    byte_order: z.literal('little'),
    bytes: z.number().int().min(0),
  }),
});

export type NetworkJson = z.output<typeof networkJson>;

/** JSON Schema (draft 2020-12) of network.json, generated from the same zod schema the loader checks. */
export function networkJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(networkJson, { io: 'input' }) as Record<string, unknown>;
}
type TensorRef = z.output<typeof tensorRef>;

// ───────────────────────── writing ─────────────────────────

export interface WrittenArtifact {
  readonly networkFile: string;
  readonly weightsFile: string;
  readonly weightBytes: number;
}

/** Serialises to the JSON document and the weights blob, without touching the disk. */
export function serializeNetwork(network: SpikingNetwork, generatedBy = 'whetstone'): { json: NetworkJson; weights: Uint8Array } {
  validateNetwork(network, `network ${network.name}`);
  const arrays: Float32Array[] = [];
  let offset = 0;
  const ref = (a: Float32Array, shape: number[], layout?: string): TensorRef => {
    arrays.push(a);
    const r: TensorRef = layout === undefined ? { offset, shape } : { offset, shape, layout };
    offset += a.byteLength;
    return r;
  };
  let step = 0;
  const layers = network.layers.map((l): NetworkJson['layers'][number] => {
    switch (l.type) {
      case 'flatten':
        return { type: 'flatten', name: l.name, input_shape: [...l.inputShape], order: 'hwc' };
      case 'dense':
        return {
          type: 'dense',
          name: l.name,
          source: [...l.source],
          step: ++step,
          input_size: l.inputSize,
          units: l.units,
          weights: ref(l.weights, [l.inputSize, l.units], 'input_major'),
          bias: ref(l.bias, [l.units]),
          threshold: ref(l.threshold, [l.units]),
        };
      case 'conv2d':
        return {
          type: 'conv2d',
          name: l.name,
          source: [...l.source],
          step: ++step,
          input_shape: [...l.inputShape],
          output_shape: [...l.outputShape],
          kernel: [...l.kernel],
          strides: [...l.strides],
          padding: { ...l.padding },
          weights: ref(l.weights, [l.kernel[0], l.kernel[1], l.inputShape[2], l.outputShape[2]], 'hwio'),
          bias: ref(l.bias, [l.outputShape[2]]),
          threshold: ref(l.threshold, [l.outputShape[2]]),
        };
      case 'or_pool2d':
        return {
          type: 'or_pool2d',
          name: l.name,
          source: [...l.source],
          step: ++step,
          input_shape: [...l.inputShape],
          output_shape: [...l.outputShape],
          pool: [...l.pool],
          strides: [...l.strides],
          padding: { ...l.padding },
        };
    }
  });
  const weights = new Uint8Array(offset);
  const view = new DataView(weights.buffer);
  let at = 0;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++, at += 4) view.setFloat32(at, a[i]!, true);
  }
  const { input } = network;
  const json: NetworkJson = {
    format: SNN_FORMAT,
    version: SNN_FORMAT_VERSION,
    name: network.name,
    generated_by: generatedBy,
    input:
      input.encoding === 'binary'
        ? { shape: [...input.shape], layout: 'hwc', encoding: 'binary', threshold: input.threshold ?? 0.5, pixel_scale: 'byte/255' }
        : { shape: [...input.shape], layout: 'hwc', encoding: 'analog', pixel_scale: 'byte/255' },
    timing: { steps: latencySteps(network), delay_per_layer: 1 },
    layers,
    output: { key: network.output.key.map((r) => [...r]), class_names: [...network.output.classNames] },
    weights: { file: WEIGHTS_FILE, dtype: 'float32', byte_order: 'little', bytes: offset },
  };
  return { json, weights };
}

/**
 * Writes `<dir>/network.json` and `<dir>/weights.bin`, each atomically, weights first (so a
 * reader never sees a network.json whose weights are missing).
 */
export function writeArtifact(dir: string, network: SpikingNetwork, generatedBy?: string): WrittenArtifact {
  const { json, weights } = serializeNetwork(network, generatedBy);
  const weightsFile = join(dir, WEIGHTS_FILE);
  const networkFile = join(dir, NETWORK_FILE);
  writeFileAtomic(weightsFile, weights);
  writeJsonAtomic(networkFile, json);
  return { networkFile, weightsFile, weightBytes: weights.byteLength };
}

// ───────────────────────── reading ─────────────────────────

/**
 * Where the artifact for a path is: a run directory (→ run/snn/network.json), an artifact
 * directory (→ dir/network.json), or network.json itself. Throws InputError when there is none.
 */
export function resolveArtifactPath(path: string): string {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new InputError(`${path}: no such file or directory`);
  }
  if (!st.isDirectory()) return path;
  for (const candidate of [join(path, RUN_SNN_DIR, NETWORK_FILE), join(path, NETWORK_FILE)]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new InputError(`${path}: holds no spiking network (no ${RUN_SNN_DIR}/${NETWORK_FILE} or ${NETWORK_FILE})`);
}

/** Parses and checks network.json text plus its weights; `file` and `weightsFile` name them in errors. */
export function deserializeNetwork(text: string, weights: Uint8Array, file: string, weightsFile: string): SpikingNetwork {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${file}: not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const r = raw as Record<string, unknown>;
    if (r.format !== undefined && r.format !== SNN_FORMAT) throw new InputError(`${file}: not a whetstone spiking network (format ${JSON.stringify(r.format)})`);
    if (typeof r.version === 'number' && r.version !== SNN_FORMAT_VERSION) {
      throw new InputError(`${file}: format version ${r.version} is not supported (this whetstone reads version ${SNN_FORMAT_VERSION})`);
    }
  }
  const parsed = networkJson.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.length === 0 ? '(top level)' : issue.path.map(String).join('.');
    throw new InputError(`${file}: ${path}: ${issue.message}`);
  }
  const json = parsed.data;
  if (weights.byteLength !== json.weights.bytes) {
    throw new InputError(`${weightsFile}: is ${weights.byteLength} bytes but ${basename(file)} describes ${json.weights.bytes} (truncated or mismatched file)`);
  }
  const view = new DataView(weights.buffer, weights.byteOffset, weights.byteLength);
  const read = (r: TensorRef, expected: number[], path: string): Float32Array => {
    if (r.shape.length !== expected.length || r.shape.some((d, i) => d !== expected[i])) {
      throw new InputError(`${file}: ${path}.shape: is [${r.shape.join(', ')}], the layer needs [${expected.join(', ')}]`);
    }
    const count = expected.reduce((a, b) => a * b, 1);
    if (r.offset % 4 !== 0) throw new InputError(`${file}: ${path}.offset: ${r.offset} is not a multiple of 4`);
    if (r.offset + count * 4 > weights.byteLength) {
      throw new InputError(`${file}: ${path}: bytes ${r.offset}…${r.offset + count * 4} lie beyond the end of ${basename(weightsFile)} (${weights.byteLength} bytes)`);
    }
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      const v = view.getFloat32(r.offset + 4 * i, true);
      if (!Number.isFinite(v)) throw new InputError(`${weightsFile}: ${path} value ${i} is ${v} (corrupted weights)`);
      out[i] = v;
    }
    return out;
  };
  let step = 0;
  const layers: SnnLayer[] = json.layers.map((l, i): SnnLayer => {
    const at = `layers.${i}`;
    if (l.type !== 'flatten' && l.step !== ++step) throw new InputError(`${file}: ${at}.step: is ${l.step}, expected ${step} (one step per neuron layer)`);
    switch (l.type) {
      case 'flatten':
        return { type: 'flatten', name: l.name, inputShape: l.input_shape as Shape3, order: 'hwc' };
      case 'dense':
        return {
          type: 'dense',
          name: l.name,
          source: l.source,
          inputSize: l.input_size,
          units: l.units,
          weights: read(l.weights, [l.input_size, l.units], `${at}.weights`),
          bias: read(l.bias, [l.units], `${at}.bias`),
          threshold: read(l.threshold, [l.units], `${at}.threshold`),
        } satisfies DenseLayer;
      case 'conv2d': {
        const [, , inC] = l.input_shape;
        const outC = l.output_shape[2];
        return {
          type: 'conv2d',
          name: l.name,
          source: l.source,
          inputShape: l.input_shape as Shape3,
          outputShape: l.output_shape as Shape3,
          kernel: l.kernel,
          strides: l.strides,
          padding: l.padding as Padding2d,
          weights: read(l.weights, [l.kernel[0], l.kernel[1], inC, outC], `${at}.weights`),
          bias: read(l.bias, [outC], `${at}.bias`),
          threshold: read(l.threshold, [outC], `${at}.threshold`),
        } satisfies Conv2dLayer;
      }
      case 'or_pool2d':
        return {
          type: 'or_pool2d',
          name: l.name,
          source: l.source,
          inputShape: l.input_shape as Shape3,
          outputShape: l.output_shape as Shape3,
          pool: l.pool,
          strides: l.strides,
          padding: l.padding as Padding2d,
        } satisfies OrPoolLayer;
    }
  });
  if (json.timing.steps !== step) throw new InputError(`${file}: timing.steps: is ${json.timing.steps}, the network has ${step} neuron layers`);
  const network: SpikingNetwork = {
    name: json.name,
    input:
      json.input.encoding === 'binary'
        ? { shape: json.input.shape as Shape3, encoding: 'binary', threshold: json.input.threshold ?? 0.5 }
        : { shape: json.input.shape as Shape3, encoding: 'analog' },
    layers,
    output: { key: json.output.key, classNames: json.output.class_names },
  };
  validateNetwork(network, file);
  return network;
}

/**
 * Loads an artifact from a run directory, an artifact directory or a network.json path.
 * @throws InputError (one line, naming the file) for anything missing, malformed, truncated or inconsistent.
 */
export function loadArtifact(path: string): SpikingNetwork {
  const file = resolveArtifactPath(path);
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw new InputError(`${file}: cannot read`);
  }
  if (size > MAX_NETWORK_JSON_BYTES) throw new InputError(`${file}: is ${size} bytes, too large for a network.json (weights belong in ${WEIGHTS_FILE})`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  // The weights file name comes from the JSON; only a plain name next to network.json is accepted.
  let weightsName = WEIGHTS_FILE;
  try {
    const peek = JSON.parse(text) as { weights?: { file?: unknown } };
    if (typeof peek?.weights?.file === 'string') weightsName = peek.weights.file;
  } catch {
    // deserializeNetwork reports the JSON error.
  }
  if (weightsName !== basename(weightsName) || weightsName === '..' || weightsName === '.') {
    throw new InputError(`${file}: weights.file must be a file name next to ${basename(file)}, not ${JSON.stringify(weightsName)}`);
  }
  const weightsFile = join(dirname(resolve(file)), weightsName);
  let weights: Uint8Array;
  try {
    weights = readFileSync(weightsFile);
  } catch (e) {
    if (text.trim() === '' || !looksLikeJson(text)) return deserializeNetwork(text, new Uint8Array(0), file, weightsFile);
    // A JSON file that is not a network at all is reported as such, not by its missing weights:
    // the structure is checked before the weights' size, so only a well-formed network gets past this.
    try {
      deserializeNetwork(text, new Uint8Array(0), file, weightsFile);
    } catch (structural) {
      if (!(structural instanceof InputError) || !structural.message.startsWith(`${weightsFile}:`)) throw structural;
    }
    throw new InputError(`${weightsFile}: cannot read weights (${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message})`);
  }
  return deserializeNetwork(text, weights, file, weightsFile);
}

function looksLikeJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
