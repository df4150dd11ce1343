/**
 * Builds the Whetstone model a conversion plan describes, from the loaded source model:
 *
 *   [SpikeEncoder] → [Flatten] → the source's layers (Conv2D/Dense made linear, each followed by
 *   its spiking activation) → Dense(classes × n) → spiking → SoftmaxDecode
 *
 * Every copied layer keeps its config (trainable flags, regularizers, batch-norm statistics) and
 * its weights. The new head starts from a seeded Glorot initialisation; `calibrate.ts` then
 * initialises it from the source classifier.
 */
import type { ImageShape } from '../../data/types.js';
import { SeededRandom } from '../../util/random.js';
import { generateKey, type OutputKey } from '../key.js';
import { isSpikingLayer, type SpikingLayer } from '../layers/spiking.js';
import { tf } from '../tf.js';
import '../layers/decode.js';
import type { ConversionPlan, SpikingKind } from './plan.js';

export interface RewriteOptions {
  readonly shape: ImageShape;
  readonly classes: number;
  readonly inputEncoding: 'binary' | 'analog';
  readonly inputThreshold: number;
  /** n: output neurons per class. */
  readonly neuronsPerClass: number;
  /** Output neurons in all. Defaults to classes × n. */
  readonly width?: number;
  readonly overlapping: boolean;
  /** The decoder's softmax temperature (training only). Defaults to 1. */
  readonly temperature?: number;
  readonly seed: number;
}

export interface RewrittenModel {
  readonly model: tf.Sequential;
  readonly key: OutputKey;
  /** Name of the new classifier Dense (`output_dense` unless the source model uses that name). */
  readonly head: string;
  /** The spiking layers, input side first (the output layer last). */
  readonly spikingLayers: readonly SpikingLayer[];
}

type LayerJson = { class_name: string; config: Record<string, unknown> };

const HEAD_DENSE = 'output_dense';
const HEAD_SPIKING = 'output_spiking';
const DECODE = 'decode';
const INPUT_SPIKES = 'input_spikes';

const spikingClass = (kind: SpikingKind) => (kind === 'sigmoid' ? 'SpikingSigmoid' : 'SpikingBRelu');

/** The source model's layer configs by name, in tfjs's own serialised form (either file format loads into it). */
function sourceConfigs(source: tf.LayersModel): Map<string, LayerJson> {
  const json = source.toJSON(null, false) as unknown as { config: { layers: LayerJson[] } };
  return new Map(json.config.layers.map((l) => [String(l.config.name), l]));
}

export async function rewriteModel(source: tf.LayersModel, plan: ConversionPlan, opts: RewriteOptions): Promise<RewrittenModel> {
  const rng = new SeededRandom(opts.seed);
  const configs = sourceConfigs(source);
  const taken = new Set<string>([...configs.keys()]);
  for (const step of plan.steps) if (step.op === 'spiking' || step.op === 'input_flatten') taken.add(step.name);
  // The names `train` gives these layers, unless the source model already uses them.
  const reserve = (base: string) => {
    let name = base;
    for (let i = 2; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    return name;
  };
  const layers: LayerJson[] = [];
  const batchInputShape = [null, ...opts.shape];
  if (opts.inputEncoding === 'binary') {
    layers.push({ class_name: 'SpikeEncoder', config: { name: reserve(INPUT_SPIKES), threshold: opts.inputThreshold } });
  }
  for (const step of plan.steps) {
    switch (step.op) {
      case 'input_flatten':
        layers.push({ class_name: 'Flatten', config: { name: step.name } });
        break;
      case 'copy': {
        const original = configs.get(step.source.name);
        if (original === undefined) throw new Error(`rewriteModel: layer ${step.source.name} is not in the loaded model`);
        const config: Record<string, unknown> = { ...original.config };
        delete config.batch_input_shape;
        delete config.input_shape;
        delete config.input_dim;
        if (original.class_name === 'Conv2D' || original.class_name === 'Dense') config.activation = 'linear';
        // Seeded, so a run is reproducible (DESIGN.md: one seed drives dropout).
        if (original.class_name === 'Dropout') config.seed = rng.fork();
        layers.push({ class_name: original.class_name, config });
        break;
      }
      case 'global_pool': {
        const size = [...step.size];
        layers.push({
          class_name: step.pool === 'avg' ? 'AveragePooling2D' : 'MaxPooling2D',
          config: { name: step.source.name, pool_size: size, strides: size, padding: 'valid', data_format: 'channels_last' },
        });
        if (step.flatten) layers.push({ class_name: 'Flatten', config: { name: reserve(`${step.source.name}_flatten`) } });
        break;
      }
      case 'spiking':
        layers.push({ class_name: spikingClass(step.activation), config: { name: step.name, sharpness: 0 } });
        break;
    }
  }
  const key = generateKey({
    classes: opts.classes,
    neuronsPerClass: opts.neuronsPerClass,
    width: opts.width,
    overlapping: opts.overlapping,
    seed: rng.fork(),
  });
  const width = key[0]!.length;
  const head = reserve(HEAD_DENSE);
  layers.push({
    class_name: 'Dense',
    config: {
      name: head,
      units: width,
      activation: 'linear',
      use_bias: true,
      kernel_initializer: { class_name: 'GlorotUniform', config: { seed: rng.fork() } },
    },
  });
  layers.push({ class_name: spikingClass(plan.outputActivation), config: { name: reserve(HEAD_SPIKING), sharpness: 0 } });
  layers.push({ class_name: 'SoftmaxDecode', config: { name: reserve(DECODE), key, temperature: opts.temperature ?? 1 } });
  layers[0]!.config.batch_input_shape = batchInputShape;

  const model = (await tf.models.modelFromJSON({
    modelTopology: { class_name: 'Sequential', config: { name: 'whetstone', layers } },
  } as unknown as tf.io.ModelJSON)) as tf.Sequential;
  for (const step of plan.steps) {
    if (step.op !== 'copy') continue;
    const weights = source.getLayer(step.source.name).getWeights();
    if (weights.length > 0) model.getLayer(step.source.name).setWeights(weights);
  }
  return { model, key, head, spikingLayers: model.layers.filter(isSpikingLayer) };
}
