/**
 * Legacy Keras `.h5` files (`model.save('model.h5')` in Keras 2, and Keras 3's legacy format): the
 * root attribute `model_config` holds the model's config as JSON; the group `model_weights` has
 * one group per layer whose attribute `weight_names` lists its arrays (`dense/kernel:0`, …), each
 * stored at `model_weights/<layer>/<weight name>`.
 */
import { InputError } from '../../../errors.js';
import { oneLine } from '../../../util/fs-errors.js';
import { packWeights, readModelBytes, type ImportedModel } from '../imported.js';
import { kerasModelConfig } from './config.js';
import { readFloats, stringAttribute, stringListAttribute, withHdf5, type H5File } from './hdf5.js';
import { weightLayers } from './keras3.js';
import { kerasWeights } from './weights.js';

function legacyContents(file: H5File, shown: string) {
  const json = stringAttribute(file, 'model_config');
  if (json === undefined) throw new InputError(`${shown}: an HDF5 file, but not a Keras model (no model_config attribute; a weights-only file?)`);
  let config: unknown;
  try {
    config = JSON.parse(json);
  } catch (e) {
    throw new InputError(`${shown}: its model_config is not valid JSON (${oneLine(e)})`);
  }
  const modelConfig = kerasModelConfig(config);
  const root = file.get('model_weights');
  if (root === null || !('keys' in root)) throw new InputError(`${shown}: a Keras model without weights (no model_weights group)`);
  const weights = kerasWeights(weightLayers(modelConfig), shown, (layer) => {
    const name = String(layer.config.name);
    const group = file.get(`model_weights/${name}`);
    if (group === null || !('attrs' in group) || !('keys' in group)) return [];
    const names = stringListAttribute(group, 'weight_names') ?? [];
    return names.map((w) => ({ path: `model_weights/${name}/${w}`, ...readFloats(file, `model_weights/${name}/${w}`, shown) }));
  });
  const version = stringAttribute(file, 'keras_version');
  return { modelConfig, weights, version, backend: stringAttribute(file, 'backend') };
}

export async function readKerasH5Model(file: string, shown: string): Promise<ImportedModel> {
  return kerasH5Artifacts(readModelBytes(file, shown), shown);
}

/** The bytes of a legacy `.h5` model as tfjs artifacts; throws InputError (naming `shown`) for anything else. */
export async function kerasH5Artifacts(bytes: Uint8Array, shown: string): Promise<ImportedModel> {
  return legacyModel(await withHdf5(bytes, shown, (h5) => legacyContents(h5, shown)));
}

function legacyModel({ modelConfig, weights, version, backend }: ReturnType<typeof legacyContents>): ImportedModel {
  return {
    artifacts: {
      modelTopology: { keras_version: version ?? 'unknown', backend: backend ?? 'unknown', model_config: modelConfig },
      format: 'layers-model',
      generatedBy: `keras ${version ?? ''}`.trim(),
      convertedBy: 'whetstone (Keras .h5 import)',
      ...packWeights(weights),
    },
    format: 'keras-h5',
    problems: [],
  };
}
