/**
 * `whetstone evaluate` as a library function: find the spiking network (a run directory, an
 * artifact directory or a network.json), find the images (the run's own test split, or `--data`),
 * and evaluate in the simulator.
 *
 * A run directory written before `snn/` existed has only `model/`: it is converted in memory,
 * which is the one path that loads tfjs (dynamically, so every other path stays framework-free).
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { datasetSpecFromConfig } from '../config/dataset-spec.js';
import { loadExperiment } from '../config/loader.js';
import { DATASET_NAMES, loadDataset, type Dataset, type DatasetName } from '../data/index.js';
import { InputError } from '../errors.js';
import { pathHint } from '../util/near-miss.js';
import { evaluateSpikingNetwork, type EvaluationResult } from './evaluate.js';
import { loadArtifact, NETWORK_FILE, RUN_SNN_DIR } from './io.js';
import type { SpikingNetwork } from './network.js';

export interface EvaluateRunOptions {
  /** Dataset name (mnist, fashion-mnist) or an experiment YAML whose dataset section to use. Defaults to the run's. */
  readonly data?: string;
  /** Evaluate only the first N test images. */
  readonly limit?: number;
  readonly weightBits?: number;
  /** Relative paths resolve against this. Defaults to the process's working directory. */
  readonly cwd?: string;
  readonly onProgress?: (done: number, total: number) => void;
  /** Called before a run's model/ is converted in memory (no snn/ in the run). */
  readonly onConvert?: (modelDir: string) => void;
}

export interface RunEvaluation {
  readonly result: EvaluationResult;
  readonly network: SpikingNetwork;
  /** Where the network came from: a network.json, or a run's model/ directory. */
  readonly networkSource: string;
  /** The run directory, when there is one. */
  readonly runDir: string | null;
}

export interface Located {
  network: SpikingNetwork;
  source: string;
  runDir: string | null;
}

const isRunDir = (dir: string) => existsSync(join(dir, 'config.yaml'));

/** Finds the spiking network of a run directory, artifact directory or network.json (shared with `whetstone export`). */
export async function locateNetwork(target: string, onConvert?: (dir: string) => void): Promise<Located> {
  let st;
  try {
    st = statSync(target);
  } catch {
    throw new InputError(`${target}: no such file or directory`, pathHint(target) ?? 'give a run directory (runs/<id>) or a network.json');
  }
  if (!st.isDirectory()) {
    const network = loadArtifact(target);
    // <run>/snn/network.json: the run is two levels up.
    const parent = dirname(dirname(resolve(target)));
    return { network, source: target, runDir: basename(dirname(resolve(target))) === RUN_SNN_DIR && isRunDir(parent) ? parent : null };
  }
  const runDir = isRunDir(target) ? target : null;
  for (const candidate of [join(target, RUN_SNN_DIR, NETWORK_FILE), join(target, NETWORK_FILE)]) {
    if (existsSync(candidate)) return { network: loadArtifact(candidate), source: candidate, runDir };
  }
  const modelDir = join(target, 'model');
  if (existsSync(join(modelDir, 'model.json'))) {
    onConvert?.(modelDir);
    // The one path that needs tfjs: start the backend the user chose (quietly), then convert.
    const { initBackend } = await import('../backend/index.js');
    await initBackend();
    const { convertModelDir } = await import('./from-tfjs.js');
    return { network: await convertModelDir(modelDir), source: modelDir, runDir };
  }
  throw new InputError(`${target}: not a run directory or spiking network (no ${RUN_SNN_DIR}/${NETWORK_FILE}, ${NETWORK_FILE} or model/model.json)`);
}

/** The test split to evaluate on: --data, else the run's own dataset (shared with `whetstone export`). */
export async function loadData(options: Pick<EvaluateRunOptions, 'data' | 'limit'>, runDir: string | null, cwd: string): Promise<Dataset> {
  const data = options.data;
  let spec;
  if (data !== undefined) {
    const path = resolve(cwd, data);
    const ext = extname(data).toLowerCase();
    if (ext === '.yaml' || ext === '.yml' || (existsSync(path) && statSync(path).isFile())) {
      spec = datasetSpecFromConfig(loadExperiment(path, data).config);
    } else if ((DATASET_NAMES as readonly string[]).includes(data)) {
      if (data === 'idx' || data === 'cifar10') {
        throw new InputError(`--data ${data}: needs files; give an experiment YAML whose dataset section names them`);
      }
      spec = { name: data as DatasetName };
    } else {
      throw new InputError(`--data ${data}: not a dataset name (${DATASET_NAMES.join(', ')}) or an experiment YAML file`);
    }
  } else if (runDir !== null) {
    spec = datasetSpecFromConfig(loadExperiment(join(runDir, 'config.yaml')).config);
  } else {
    throw new InputError('no dataset to evaluate on: this network is not inside a run directory', 'pass --data <dataset name or experiment.yaml>');
  }
  if (options.limit !== undefined) spec = { ...spec, limit: { ...spec.limit, test: options.limit } };
  // Only the test split is used: hold nothing out of train.
  return loadDataset({ ...spec, validation: 0 });
}

/** Evaluates a run's (or a file's) spiking network on its test split. Throws InputError for bad input. */
export async function evaluateRun(target: string, options: EvaluateRunOptions = {}): Promise<RunEvaluation> {
  const cwd = options.cwd ?? process.cwd();
  const located = await locateNetwork(resolve(cwd, target), options.onConvert);
  const dataset = await loadData(options, located.runDir, cwd);
  const { network } = located;
  const want = network.input.shape.join('×');
  if (dataset.shape.join('×') !== want) {
    throw new InputError(`dataset ${dataset.name} has ${dataset.shape.join('×')} images but the network expects ${want}`);
  }
  const classes = network.output.key.length;
  for (let i = 0; i < dataset.test.count; i++) {
    if (dataset.test.labels[i]! >= classes) {
      throw new InputError(`dataset ${dataset.name}: test label ${dataset.test.labels[i]} (image ${i}) is beyond the network's ${classes} classes`);
    }
  }
  const result = evaluateSpikingNetwork(network, dataset.test, {
    dataset: dataset.name,
    limit: options.limit,
    weightBits: options.weightBits,
    onProgress: options.onProgress,
  });
  return { result, network, networkSource: located.source, runDir: located.runDir };
}
