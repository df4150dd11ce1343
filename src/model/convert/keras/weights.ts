/**
 * A Keras model's weights, found layer by layer in an HDF5 file and named as tfjs-layers loads
 * them (`<layer>/kernel`, `<layer>/moving_mean`, …). Where each layer's arrays live differs between
 * the formats (`layers/<class>/vars/<i>` in Keras 3, `model_weights/<layer>/<layer>/kernel:0` in
 * legacy files); the checks against the layer's config are the same.
 */
import { InputError } from '../../../errors.js';
import type { NamedWeight } from '../imported.js';
import { weightNames } from './config.js';

type Json = Record<string, unknown>;
export interface KerasLayerEntry {
  readonly class_name: string;
  readonly config: Json;
}
/** One array as read from the file, with the path it was read from (for messages). */
export interface FoundArray {
  readonly path: string;
  readonly shape: number[];
  readonly values: Float32Array;
}

const units = (v: unknown) => (typeof v === 'number' ? v : undefined);

/** What the config says the last dimension of each weight must be (its units, filters or channels). */
function expectedLast(className: string, config: Json, weight: string, found: readonly FoundArray[]): number | undefined {
  if (className === 'Dense') return units(config.units);
  if (className === 'Conv2D') return units(config.filters);
  // Batch norm: every vector as long as the first.
  return weight === 'gamma' || found.length === 0 ? undefined : found[0]!.shape.at(-1);
}

/**
 * The weights of `layers`, each layer's arrays given by `arrays(layer, index, names)` in Keras's
 * creation order. Throws InputError (naming `shown` and the array) where counts or shapes disagree.
 */
export function kerasWeights(layers: readonly KerasLayerEntry[], shown: string, arrays: (layer: KerasLayerEntry, index: number, names: string[]) => FoundArray[]): NamedWeight[] {
  const out: NamedWeight[] = [];
  layers.forEach((layer, index) => {
    const names = weightNames(layer.class_name, layer.config);
    if (names.length === 0) return;
    const found = arrays(layer, index, names);
    const name = String(layer.config.name);
    if (found.length !== names.length) {
      throw new InputError(`${shown}: layer ${name} (${layer.class_name}) has ${found.length} weight arrays in the file but its config needs ${names.length} (${names.join(', ')})`);
    }
    found.forEach((a, i) => {
      const weight = names[i]!;
      const last = expectedLast(layer.class_name, layer.config, weight, found);
      const rank = weight === 'kernel' ? (layer.class_name === 'Conv2D' ? 4 : 2) : 1;
      if (a.shape.length !== rank || (last !== undefined && a.shape.at(-1) !== last)) {
        throw new InputError(`${shown}: ${a.path} has shape [${a.shape.join(', ')}], which does not fit layer ${name} (${layer.class_name}) as its config describes it (weights do not match the graph)`);
      }
      out.push({ name: `${name}/${weight}`, shape: a.shape, values: a.values });
    });
  });
  return out;
}
