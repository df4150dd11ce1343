/**
 * `whetstone export` as a library function, and the registry of targets (one file each).
 *
 * Every export starts from the framework-free spiking artifact (src/snn), never from tfjs. The
 * pipeline: find the network, refuse what the target cannot represent (InputError, one line,
 * before anything is written), apply an approximation only when asked (--weight-bits, with the
 * simulated accuracy before and after), let the target write into a temporary directory, add
 * README.md and export.json, then rename the directory into place — an export appears whole or
 * not at all.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { predictSpiking } from '../snn/evaluate.js';
import { latencySteps, neuronLayers, type SpikingNetwork } from '../snn/network.js';
import { quantizeNetwork } from '../snn/quantize.js';
import { loadData, locateNetwork } from '../snn/run.js';
import { jsonTarget } from './json.js';
import { loihiTarget } from './loihi.js';
import { nirTarget } from './nir.js';
import { spinnakerTarget } from './spinnaker.js';
import { TARGET_NAMES, type ExportTarget, type NirNeuron, type PynnSimulator, type Samples, type TargetName } from './target.js';

export { TARGET_NAMES, NIR_NEURONS, PYNN_SIMULATORS, type TargetName, type NirNeuron, type PynnSimulator } from './target.js';

export const EXPORT_TARGETS: Readonly<Record<TargetName, ExportTarget>> = {
  nir: nirTarget,
  spinnaker: spinnakerTarget,
  loihi: loihiTarget,
  json: jsonTarget,
};

/** Marker of a directory this command wrote (and may therefore replace). */
export const MANIFEST_FILE = 'export.json';
export const MANIFEST_FORMAT = 'whetstone-export';
/** Test samples a SpiNNaker or Lava script carries unless --samples says otherwise. */
export const DEFAULT_SCRIPT_SAMPLES = 100;

export interface ExportOptions {
  readonly target: TargetName;
  /** Output directory. Defaults to <run>/export/<target>, or export-<target>/ beside a network.json. */
  readonly out?: string;
  /** NIR only: 'threshold' (default, the faithful form) or 'if'. */
  readonly neuron?: NirNeuron;
  /** SpiNNaker only: the script's default PyNN backend. Defaults to spiNNaker. */
  readonly simulator?: PynnSimulator;
  /** Quantize weights to N-bit signed levels first (an approximation, reported with its accuracy). */
  readonly weightBits?: number;
  /** Dataset name or experiment YAML for test samples. Defaults to the run's. */
  readonly data?: string;
  /** Use only the first N test images for accuracies. */
  readonly limit?: number;
  /** Samples embedded in a generated script. Defaults to 100. */
  readonly samples?: number;
  readonly cwd?: string;
}

export interface ExportResult {
  readonly target: TargetName;
  readonly outDir: string;
  readonly files: readonly string[];
  readonly network: string;
  readonly source: string;
  readonly lines: readonly string[];
  /** With --weight-bits: accuracy before and after, on `images` test images. */
  readonly quantization: { bits: number; float_accuracy: number; accuracy: number; images: number } | null;
  readonly details: Record<string, unknown>;
}

function accuracyOf(predictions: Uint8Array, labels: Uint8Array): number {
  let correct = 0;
  for (let i = 0; i < predictions.length; i++) if (predictions[i] === labels[i]) correct++;
  return predictions.length ? correct / predictions.length : Number.NaN;
}

/** Refuses an existing output directory that this command did not write. */
function checkOutDir(outDir: string): void {
  if (!existsSync(outDir)) return;
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(join(outDir, MANIFEST_FILE), 'utf8'));
  } catch {
    throw new InputError(`${outDir}: exists and is not a whetstone export (no ${MANIFEST_FILE}); choose another --out or remove it`);
  }
  if ((manifest as { format?: unknown })?.format !== MANIFEST_FORMAT) {
    throw new InputError(`${outDir}: exists and is not a whetstone export (${MANIFEST_FILE} is not one); choose another --out or remove it`);
  }
}

let tmpCounter = 0;

/** Exports a run's (or a file's) spiking network to a target. Throws InputError for anything it cannot do exactly. */
export async function exportRun(sourcePath: string, options: ExportOptions): Promise<ExportResult> {
  const cwd = options.cwd ?? process.cwd();
  const target = EXPORT_TARGETS[options.target];
  if (target === undefined) throw new InputError(`--target ${options.target}: not a target (${TARGET_NAMES.join(', ')})`);
  if (options.neuron !== undefined && options.target !== 'nir') throw new InputError(`--neuron: applies to --target nir only`);
  if (options.simulator !== undefined && options.target !== 'spinnaker') throw new InputError(`--simulator: applies to --target spinnaker only`);
  const neuron = options.neuron ?? 'threshold';
  const weightBits = options.weightBits ?? null;

  const located = await locateNetwork(resolve(cwd, sourcePath));
  const original = located.network;
  // Refuse what the target cannot represent before loading data or writing anything.
  try {
    target.check(original, { neuron, weightBits });
  } catch (e) {
    if (e instanceof InputError && !e.message.startsWith(located.source)) throw new InputError(`${located.source}: ${e.message}`, e.hint);
    throw e;
  }

  const outDir = resolve(
    cwd,
    options.out ?? (located.runDir !== null ? join(located.runDir, 'export', options.target) : join(dirname(resolve(cwd, located.source)), `export-${options.target}`)),
  );
  checkOutDir(outDir);

  let samples: Samples | null = null;
  if (target.needsSamples || weightBits !== null || options.data !== undefined) {
    if (options.data === undefined && located.runDir === null) {
      const why = target.needsSamples ? `the ${options.target} export needs test images` : '--weight-bits reports the accuracy after quantization';
      throw new InputError(`${located.source}: ${why} and this network is not inside a run directory`, 'pass --data <dataset name or experiment.yaml>');
    }
    const dataset = await loadData({ data: options.data, limit: options.limit }, located.runDir, cwd);
    const want = original.input.shape.join('×');
    if (dataset.shape.join('×') !== want) throw new InputError(`dataset ${dataset.name} has ${dataset.shape.join('×')} images but the network expects ${want}`);
    const count = Math.min(options.limit ?? dataset.test.count, dataset.test.count);
    samples = { dataset: dataset.name, images: dataset.test.images, labels: dataset.test.labels.subarray(0, count), count };
  }

  let network: SpikingNetwork = original;
  let quantization: ExportResult['quantization'] = null;
  if (weightBits !== null) {
    network = quantizeNetwork(original, weightBits).network;
    const before = predictSpiking(original, samples!);
    const after = predictSpiking(network, samples!);
    quantization = { bits: weightBits, float_accuracy: accuracyOf(before, samples!.labels), accuracy: accuracyOf(after, samples!.labels), images: samples!.count };
  }
  const predictions = samples === null ? null : predictSpiking(network, samples, Math.min(options.samples ?? DEFAULT_SCRIPT_SAMPLES, samples.count));

  mkdirSync(dirname(outDir), { recursive: true });
  const tmp = join(dirname(outDir), `.${basename(outDir)}.${process.pid}.${tmpCounter++}.tmp`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  try {
    const report = await target.write({
      network,
      original,
      dir: tmp,
      source: located.source,
      samples,
      predictions,
      neuron,
      simulator: options.simulator ?? 'spiNNaker',
      weightBits,
      scriptSamples: options.samples ?? DEFAULT_SCRIPT_SAMPLES,
    });
    const lines = [...report.lines];
    if (quantization !== null) {
      lines.unshift(
        `approximation: ${weightBits}-bit weights (--weight-bits): accuracy ${(100 * quantization.accuracy).toFixed(2)}% vs ${(100 * quantization.float_accuracy).toFixed(2)}% with float32 weights, on ${quantization.images} test images (Whetstone simulator)`,
      );
    }
    const manifest = {
      format: MANIFEST_FORMAT,
      version: 1,
      target: options.target,
      network: network.name,
      source: located.source,
      neuron_layers: neuronLayers(network).length,
      latency_steps: latencySteps(network),
      input_encoding: network.input.encoding,
      weight_bits: weightBits,
      quantization,
      files: [...report.files, 'README.md', MANIFEST_FILE],
      ...(report.details ?? {}),
    };
    const header = [
      `# ${network.name} — ${target.description}`,
      '',
      `Exported by \`whetstone export --target ${options.target}\` from \`${located.source}\`${weightBits !== null ? ` with ${weightBits}-bit weights (an approximation; accuracy ${(100 * quantization!.accuracy).toFixed(2)}% vs ${(100 * quantization!.float_accuracy).toFixed(2)}% float32 on ${quantization!.images} test images)` : ''}. \`${MANIFEST_FILE}\` lists the files and facts.`,
      '',
    ].join('\n');
    writeFileSync(join(tmp, 'README.md'), `${header}${report.readme}`);
    writeFileSync(join(tmp, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    // Swap into place: an older export moves aside first and is removed only once the new one is in.
    let old: string | null = null;
    if (existsSync(outDir)) {
      old = `${tmp}.old`;
      renameSync(outDir, old);
    }
    renameSync(tmp, outDir);
    if (old !== null) rmSync(old, { recursive: true, force: true });
    return { target: options.target, outDir, files: manifest.files, network: network.name, source: located.source, lines, quantization, details: report.details ?? {} };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
