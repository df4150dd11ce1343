/**
 * Keras 3 `.keras` files: a zip holding `config.json` (the model's config), `model.weights.h5`
 * (the weights) and `metadata.json` (Keras version). In the weights file each layer's arrays are
 * `layers/<name>/vars/0, 1, …`, where <name> is the snake_case class name, numbered per class in
 * the order of the model's layers (`dense`, `dense_1`, …; keras/src/saving/saving_lib.py names
 * them so because layer names are not reproducible), the InputLayer excluded.
 */
import { unzipSync } from 'fflate';
import { InputError } from '../../../errors.js';
import { oneLine } from '../../../util/fs-errors.js';
import { packWeights, readModelBytes, type ImportedModel } from '../imported.js';
import { kerasModelConfig, kerasSnakeCase } from './config.js';
import { readFloats, withHdf5, type H5File } from './hdf5.js';
import { kerasWeights, type KerasLayerEntry } from './weights.js';

const CONFIG = 'config.json';
const WEIGHTS = 'model.weights.h5';
const METADATA = 'metadata.json';
/** Refuse to inflate more than this (a zip's sizes are the writer's claim; a zip bomb's are large). */
const MAX_BYTES = 2 ** 31;

/** The layers whose weights the file holds, as Keras walks them (the model's layers, without the InputLayer). */
export function weightLayers(modelConfig: unknown): KerasLayerEntry[] {
  const config = (modelConfig as { config?: { layers?: unknown } } | undefined)?.config;
  const layers = Array.isArray(config?.layers) ? (config.layers as KerasLayerEntry[]) : [];
  return layers.filter((l) => l !== null && typeof l === 'object' && typeof l.class_name === 'string' && l.class_name !== 'InputLayer' && l.config !== null && typeof l.config === 'object');
}

function keras3Arrays(file: H5File, layers: KerasLayerEntry[], shown: string) {
  const groups: string[] = [];
  const used = new Map<string, number>();
  for (const l of layers) {
    const base = kerasSnakeCase(l.class_name);
    const n = used.get(base);
    used.set(base, (n ?? -1) + 1);
    groups.push(n === undefined ? base : `${base}_${n + 1}`);
  }
  return kerasWeights(layers, shown, (_layer, index, names) => {
    const vars = `layers/${groups[index]}/vars`;
    const group = file.get(vars);
    const count = group !== null && 'keys' in group ? group.keys().length : 0;
    return Array.from({ length: Math.min(count, names.length + 1) }, (_, i) => ({ path: `${WEIGHTS}: ${vars}/${i}`, ...readFloats(file, `${vars}/${i}`, `${shown}: ${WEIGHTS}`) }));
  });
}

export async function readKeras3Model(file: string, shown: string): Promise<ImportedModel> {
  return keras3Artifacts(readModelBytes(file, shown), shown);
}

/** The bytes of a `.keras` file as tfjs artifacts; throws InputError (naming `shown`) for anything else. */
export async function keras3Artifacts(bytes: Uint8Array, shown: string): Promise<ImportedModel> {
  let entries: Record<string, Uint8Array>;
  try {
    let claimed = 0;
    entries = unzipSync(bytes, {
      filter: (f) => {
        const wanted = f.name === CONFIG || f.name === WEIGHTS || f.name === METADATA;
        if (wanted) claimed += f.originalSize;
        if (claimed > MAX_BYTES) throw new Error(`its entries claim ${claimed} bytes`);
        return wanted;
      },
    });
  } catch (e) {
    throw new InputError(`${shown}: not a Keras 3 .keras file (not a readable zip: ${oneLine(e)})`);
  }
  const missing = [CONFIG, WEIGHTS].filter((n) => entries[n] === undefined);
  if (missing.length > 0) throw new InputError(`${shown}: a zip, but not a Keras 3 .keras file (no ${missing.join(' or ')} in it)`);
  let config: unknown;
  try {
    config = JSON.parse(new TextDecoder().decode(entries[CONFIG]));
  } catch (e) {
    throw new InputError(`${shown}: ${CONFIG} is not valid JSON (${oneLine(e)})`);
  }
  const modelConfig = kerasModelConfig(config);
  let kerasVersion: string | undefined;
  try {
    const meta = entries[METADATA] === undefined ? undefined : (JSON.parse(new TextDecoder().decode(entries[METADATA])) as { keras_version?: unknown });
    if (typeof meta?.keras_version === 'string') kerasVersion = meta.keras_version;
  } catch {
    // metadata.json is informational only.
  }
  const weights = await withHdf5(entries[WEIGHTS]!, `${shown}: ${WEIGHTS}`, (h5) => keras3Arrays(h5, weightLayers(modelConfig), shown));
  return {
    artifacts: {
      modelTopology: { keras_version: kerasVersion ?? '3', backend: 'unknown', model_config: modelConfig },
      format: 'layers-model',
      generatedBy: `keras ${kerasVersion ?? '3'}`,
      convertedBy: 'whetstone (Keras 3 import)',
      ...packWeights(weights),
    },
    format: 'keras3',
    problems: [],
  };
}
