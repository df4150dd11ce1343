/**
 * Reads a model file of any supported format into tfjs artifacts and its layer chain:
 *
 *   model.json (or its directory)  tfjs `model.save`, or the tensorflowjs converter's Keras 2 output
 *   *.onnx                          ONNX (PyTorch's torch.onnx.export, …)          → onnx/
 *   *.keras                         Keras 3 (a zip of config.json + model.weights.h5) → keras/
 *   *.h5, *.hdf5                    legacy Keras (model_config + model_weights)     → keras/
 *
 * The format is told by the file name, as Keras and PyTorch name them.
 */
import { extname } from 'node:path';
import { readModelArtifacts } from '../io.js';
import type { ImportedModel } from './imported.js';
import { readKerasH5Model } from './keras/legacy.js';
import { readKeras3Model } from './keras/keras3.js';
import { readOnnxModel } from './onnx/index.js';
import { readSourceModel, type SourceModel } from './source.js';

/** Reads `file` (named `shown` in messages). Throws InputError for a file that is not the format its name says. */
export async function importModel(file: string, shown: string): Promise<ImportedModel> {
  const ext = extname(file).toLowerCase();
  if (ext === '.onnx') return readOnnxModel(file, shown);
  if (ext === '.keras') return readKeras3Model(file, shown);
  if (ext === '.h5' || ext === '.hdf5') return readKerasH5Model(file, shown);
  return { artifacts: readModelArtifacts(file), problems: [] };
}

/**
 * The layer chain of an imported model, with the importer's own problems first (they name nodes
 * of the original file). Throws SourceFormatError when the topology is not a layers model.
 */
export function importedSource(imported: ImportedModel): SourceModel {
  const source = readSourceModel(imported.artifacts.modelTopology);
  return {
    ...source,
    format: imported.format ?? source.format,
    className: imported.className ?? source.className,
    problems: [...imported.problems, ...source.problems],
  };
}
