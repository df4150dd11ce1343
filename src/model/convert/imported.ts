/**
 * What every model source (tfjs model.json, ONNX, Keras 3 `.keras`, legacy Keras `.h5`) hands to
 * the conversion: tfjs layers-model artifacts (a Keras-style topology and named float32 weights),
 * so that source.ts, plan.ts, rewrite.ts and calibrate.ts see one format whatever the file was.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../../errors.js';
import { describeFsError } from '../../util/fs-errors.js';
import type { tf } from '../tf.js';
import type { LayerProblem, SourceFormat } from './source.js';

export interface ImportedModel {
  readonly artifacts: tf.io.ModelArtifacts;
  /** The file's format; undefined for a model.json (source.ts tells tfjs output from converted Keras). */
  readonly format?: SourceFormat;
  /** What to call the model's kind in messages and metadata (`graph` for ONNX), instead of its topology's class. */
  readonly className?: string;
  /** Parts of the file that have no layer counterpart (unsupported ONNX nodes …), for the one refusal message. */
  readonly problems: readonly LayerProblem[];
}

export interface NamedWeight {
  readonly name: string;
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

/** Weights as tfjs artifacts: one float32 buffer and its manifest, in the given order. */
export function packWeights(weights: readonly NamedWeight[]): Pick<tf.io.ModelArtifacts, 'weightSpecs' | 'weightData'> {
  const total = weights.reduce((n, w) => n + w.values.length, 0);
  const data = new Float32Array(total);
  let offset = 0;
  for (const w of weights) {
    data.set(w.values, offset);
    offset += w.values.length;
  }
  return { weightSpecs: weights.map((w) => ({ name: w.name, shape: [...w.shape], dtype: 'float32' as const })), weightData: data.buffer };
}

/** The bytes of a model file, or an InputError naming it as `shown`. */
export function readModelBytes(file: string, shown: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new InputError(`${shown}: cannot read model (${describeFsError(e)})`);
  }
}
