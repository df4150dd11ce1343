/**
 * Model files in the TensorFlow.js layers format (`model.json` + weight shards), read and written
 * without tfjs-node's file:// handler so they work on every backend. What we write loads with
 * stock `tf.loadLayersModel` (given our custom layers are registered: import this package).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { InputError } from '../errors.js';
import { describeFsError } from '../util/fs-errors.js';
import { pathHint } from '../util/near-miss.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { tf } from './tf.js';
import './layers/spiking.js';
import './layers/decode.js';

const WEIGHTS_FILE = 'weights.bin';

/** Saves `model` as `<dir>/model.json` + `<dir>/weights.bin`, each file atomically. */
export async function saveModel(model: tf.LayersModel, dir: string, extra: Record<string, unknown> = {}): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      // Weights first: model.json appearing last means a reader never sees a manifest without its data.
      writeFileAtomic(join(dir, WEIGHTS_FILE), new Uint8Array(data));
      writeJsonAtomic(join(dir, 'model.json'), {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
        ...extra,
      });
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

/** The model.json a path names: the file itself, or model.json inside a directory. */
function modelJsonPath(pathOrDir: string): string {
  return existsSync(pathOrDir) && statSync(pathOrDir).isDirectory() ? join(pathOrDir, 'model.json') : pathOrDir;
}

interface ModelJsonFile {
  modelTopology?: unknown;
  weightsManifest?: { paths?: unknown; weights?: tf.io.WeightsManifestEntry[] }[];
  format?: string;
}

/** Reads model.json and its shards into artifacts, checking every size. Throws InputError. */
export function readModelArtifacts(pathOrDir: string): tf.io.ModelArtifacts {
  const file = modelJsonPath(pathOrDir);
  let json: ModelJsonFile;
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as ModelJsonFile;
  } catch (e) {
    if (e instanceof SyntaxError) throw new InputError(`${file}: not valid JSON (${e.message})`);
    throw new InputError(`${file}: cannot read model (${describeFsError(e)})`, pathHint(file));
  }
  if (json === null || typeof json !== 'object' || json.modelTopology === undefined || json.modelTopology === null) {
    throw new InputError(`${file}: not a TensorFlow.js layers model (no modelTopology)`);
  }
  const manifest = json.weightsManifest ?? [];
  if (!Array.isArray(manifest)) throw new InputError(`${file}: weightsManifest must be a list`);
  const base = dirname(resolve(file));
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  const shards: string[] = [];
  for (const group of manifest) {
    if (!Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw new InputError(`${file}: each weightsManifest entry needs 'paths' and 'weights' lists`);
    }
    for (const p of group.paths) {
      if (typeof p !== 'string') throw new InputError(`${file}: weight shard paths must be strings`);
      const shard = resolve(base, p);
      const rel = relative(base, shard);
      if (rel.startsWith('..') || rel.startsWith(sep) || resolve(base, rel) !== shard) {
        throw new InputError(`${file}: weight shard '${p}' is outside the model's directory`);
      }
      try {
        buffers.push(readFileSync(shard));
        shards.push(shard);
      } catch (e) {
        throw new InputError(`${shard}: cannot read weight shard (${describeFsError(e)})`);
      }
    }
    specs.push(...group.weights);
  }
  const expected = specs.reduce((sum, s) => sum + byteSize(s, file), 0);
  const actual = buffers.reduce((sum, b) => sum + b.byteLength, 0);
  if (actual !== expected) {
    const where = shards.length === 1 ? `${shards[0]}: ${actual} bytes` : `${file}: its ${shards.length} weight shards hold ${actual} bytes`;
    throw new InputError(`${where}, but the weight manifest in ${basename(file)} describes ${expected} (truncated or mismatched shard)`);
  }
  const all = new Uint8Array(actual);
  let offset = 0;
  for (const b of buffers) {
    all.set(b, offset);
    offset += b.byteLength;
  }
  return { modelTopology: json.modelTopology as object, weightSpecs: specs, weightData: all.buffer, format: json.format };
}

function byteSize(spec: tf.io.WeightsManifestEntry, file: string): number {
  const count = (spec.shape ?? []).reduce((a, b) => a * b, 1);
  const bytesPer: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const per = bytesPer[dtype];
  if (per === undefined || !Number.isInteger(count) || count < 0) {
    throw new InputError(`${file}: weight '${spec.name}' has an unsupported dtype or shape`);
  }
  return count * per;
}

/** Loads a layers model from a directory or model.json path. Throws InputError on bad files. */
export async function loadModel(pathOrDir: string): Promise<tf.LayersModel> {
  const artifacts = readModelArtifacts(pathOrDir);
  try {
    return await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (e) {
    const message = (e as Error).message.split('\n')[0] ?? '';
    const unknown = /^Unknown layer: (\S+?)\./.exec(message);
    const reason = unknown ? `unknown layer type '${unknown[1]}'` : `cannot build the model (${message})`;
    throw new InputError(`${modelJsonPath(pathOrDir)}: ${reason}`);
  }
}
