/**
 * Benchmarks of the spiking simulator (figures, not timed tests).
 *
 *   npm run bench                        # speed + agreement on the full MNIST test set, dense and CNN
 *   npm run bench -- --write             # … and record the figures in docs/results.md
 *   npm run bench -- --dense <run-dir> --cnn <run-dir>
 *   npm run bench -- encoding [--write]  # binary vs analog input encoding: trains quickstart both ways
 *
 * Speed: in one process and one run, the simulator's images/s on the 10,000 MNIST test images
 * against tfjs inference of the same sharpened model on the same backend (wasm), both from bytes
 * to classes, best of three passes each after a warm-up; their predictions are compared image by
 * image. Memory: the simulator's parameters (the artifact's weights) plus its working buffers,
 * against the size of the weights.
 *
 * Networks: the newest finished run of configs/quickstart.yaml (dense) and configs/mnist-cnn.yaml
 * (CNN) under runs/experiments (from `npm run experiments`) or runs/bench; without one, the bench
 * trains quickstart and bench/configs/mnist-cnn-short.yaml (mnist-cnn's layers on a short budget)
 * into runs/bench first.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { initBackend } from '../src/backend/index.js';
import { loadDataset, type Dataset } from '../src/data/index.js';
import { loadModel } from '../src/model/io.js';
import { convertModelDir } from '../src/snn/from-tfjs.js';
import { evaluateSpikingNetwork, loadArtifact, sizeOf, SpikingSimulator, writeArtifact, type SpikingNetwork } from '../src/snn/index.js';
import { predictClasses } from '../src/train/evaluate.js';
import { trainExperiment, type TrainSummary } from '../src/train/index.js';
import { writeFileAtomic } from '../src/util/atomic.js';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const write = args.includes('--write');
const resultsFile = join(root, 'docs', 'results.md');
const log = (s: string) => process.stderr.write(`${s}\n`);

interface Target {
  label: string;
  /** Experiment names whose finished runs qualify. */
  names: string[];
  /** Config trained when no run exists. */
  fallback: string;
  flag: string;
}

const TARGETS: Target[] = [
  { label: 'dense', names: ['quickstart'], fallback: 'configs/quickstart.yaml', flag: '--dense' },
  { label: 'CNN', names: ['mnist-cnn', 'bench-mnist-cnn-short'], fallback: 'bench/configs/mnist-cnn-short.yaml', flag: '--cnn' },
];

function finishedRuns(parent: string, names: string[]): string[] {
  if (!existsSync(parent)) return [];
  return readdirSync(parent)
    // <experiment>-<UTC timestamp>[-n], as train/run-dir.ts names them.
    .filter((d) => names.some((n) => new RegExp(`^${n}-\\d{8}-\\d{6}(-\\d+)?$`).test(d)))
    .map((d) => join(parent, d))
    .filter((d) => {
      try {
        const s = JSON.parse(readFileSync(join(d, 'summary.json'), 'utf8')) as TrainSummary;
        return s.sharpening_finished && existsSync(join(d, 'model', 'model.json'));
      } catch {
        return false;
      }
    });
}

async function findRun(t: Target): Promise<string> {
  const given = flag(t.flag);
  if (given !== undefined) return given;
  // Prefer the full experiment (mnist-cnn over its short bench version), newest first.
  for (const name of t.names) {
    const runs = [...finishedRuns(join(root, 'runs', 'experiments'), [name]), ...finishedRuns(join(root, 'runs', 'bench'), [name])];
    runs.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
    if (runs[0] !== undefined) return runs[0];
  }
  log(`no finished run for ${t.label}: training ${t.fallback} into runs/bench (once)`);
  const { runDir } = await trainExperiment(join(root, t.fallback), { outDir: join(root, 'runs', 'bench'), backend: 'wasm' }, { onEpoch: (m) => log(`  epoch ${m.epoch}: spiking val ${(m.spiking_val_accuracy ?? 0).toFixed(4)}`) });
  return runDir;
}

function best(reps: number, fn: () => void): number {
  let min = Infinity;
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    fn();
    min = Math.min(min, (performance.now() - t) / 1000);
  }
  return min;
}

interface SpeedRow {
  label: string;
  run: string;
  summary: TrainSummary;
  layers: string;
  images: number;
  disagreements: number;
  accuracy: number;
  tfjsPerSecond: number;
  simPerSecond: number;
  jsKernelPerSecond: number;
  kernel: string;
  weightBytes: number;
  memoryBytes: number;
  eventsPerMac: number;
}

/** The network as it comes off disk: what `whetstone evaluate` simulates. */
async function artifactOf(runDir: string): Promise<SpikingNetwork> {
  if (existsSync(join(runDir, 'snn', 'network.json'))) return loadArtifact(runDir);
  const tmp = mkdtempSync(join(tmpdir(), 'whetstone-bench-'));
  try {
    writeArtifact(tmp, await convertModelDir(join(runDir, 'model')));
    return loadArtifact(tmp);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function speed(t: Target, data: Dataset): Promise<SpeedRow> {
  const run = await findRun(t);
  const summary = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8')) as TrainSummary;
  log(`${t.label}: ${run}`);
  const model = await loadModel(join(run, 'model'));
  const network = await artifactOf(run);
  const test = data.test;
  const pixels = sizeOf(network.input.shape);

  const sim = new SpikingSimulator(network);
  const jsSim = new SpikingSimulator(network, { kernel: 'js' });
  const simulate = (engine: SpikingSimulator) => {
    const out = new Uint8Array(test.count);
    for (let i = 0; i < test.count; i++) out[i] = engine.classify(test.images, i * pixels);
    return out;
  };
  // Warm-up (JIT, wasm kernels, tfjs weight upload), then best of three, interleaved.
  const warm = { images: test.images.subarray(0, 1000 * pixels), labels: test.labels.subarray(0, 1000), count: 1000 };
  predictClasses(model, warm, data.shape);
  for (let i = 0; i < 1000; i++) sim.classify(warm.images, i * pixels);
  for (let i = 0; i < 1000; i++) jsSim.classify(warm.images, i * pixels);
  let tfjsSeconds = Infinity;
  let simSeconds = Infinity;
  let jsSeconds = Infinity;
  let expected: Uint8Array = new Uint8Array(0);
  let predicted: Uint8Array = new Uint8Array(0);
  let predictedJs: Uint8Array = new Uint8Array(0);
  for (let r = 0; r < 3; r++) {
    tfjsSeconds = Math.min(tfjsSeconds, best(1, () => (expected = predictClasses(model, test, data.shape))));
    simSeconds = Math.min(simSeconds, best(1, () => (predicted = simulate(sim))));
    jsSeconds = Math.min(jsSeconds, best(1, () => (predictedJs = simulate(jsSim))));
  }
  for (let i = 0; i < test.count; i++) if (predictedJs[i] !== predicted[i]) throw new Error(`the JS and wasm kernels disagree on image ${i}`);
  model.dispose();
  let disagreements = 0;
  for (let i = 0; i < test.count; i++) if (expected[i] !== predicted[i]) disagreements++;
  const evaluation = evaluateSpikingNetwork(network, test);
  return {
    label: `${t.label} — \`${summary.experiment}\``,
    run: run.replace(`${root}`, ''),
    summary,
    layers: network.layers.filter((l) => l.type !== 'flatten').map((l) => (l.type === 'dense' ? `dense ${l.units}` : l.type === 'conv2d' ? `conv ${l.outputShape[2]}` : 'OR-pool')).join(' → '),
    images: test.count,
    disagreements,
    accuracy: evaluation.accuracy,
    tfjsPerSecond: test.count / tfjsSeconds,
    simPerSecond: test.count / simSeconds,
    jsKernelPerSecond: test.count / jsSeconds,
    kernel: sim.kernel,
    weightBytes: sim.weightBytes,
    memoryBytes: sim.memoryBytes,
    eventsPerMac: evaluation.totals.events_per_mac,
  };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : `${(v * 100).toFixed(2)}%`);
const machine = () => `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}`;

function record(start: string, end: string, text: string): void {
  const heading = '## Spiking simulator';
  let doc = existsSync(resultsFile) ? readFileSync(resultsFile, 'utf8') : '# Results\n';
  if (!doc.includes(heading)) doc = `${doc.trimEnd()}\n\n${heading}\n\nFigures written by \`npm run bench -- --write\` (bench/run.ts); see docs/snn-format.md for what is measured.\n`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  doc = i >= 0 && j > i ? `${doc.slice(0, i + start.length)}\n${text}\n${doc.slice(j)}` : `${doc.trimEnd()}\n\n${start}\n${text}\n${end}\n`;
  // Atomic: other scripts (npm run experiments) rewrite this file too.
  writeFileAtomic(resultsFile, doc);
  log(`wrote ${resultsFile}`);
}

async function speedBench(): Promise<void> {
  const backend = await initBackend('wasm');
  const data = await loadDataset({ name: 'mnist', validation: 0 });
  log(`backend ${backend.name} (simd ${String(backend.simd)}, threads ${backend.threads ?? 1}); ${data.test.count} test images`);
  const rows: SpeedRow[] = [];
  for (const t of TARGETS) rows.push(await speed(t, data));
  const table = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machine()} with \`npm run bench\`: tfjs ${backend.name} backend (SIMD ${backend.simd ? 'on' : 'off'}, ${backend.threads ?? 1} thread) against the simulator (one thread, ${rows[0]!.kernel} kernel; the plain-JS kernel for comparison). Both go from pixel bytes to a class for each of the ${fmt(rows[0]!.images)} MNIST test images; best of 3 interleaved passes after a warm-up. Memory: what the simulator allocates (a copy of the weights, biases, thresholds, accumulators, spike vectors, a bounded pair list) against the float32 weights.`,
    '',
    '| network | neuron layers | run | predictions equal to tfjs | simulator accuracy | tfjs images/s | simulator images/s | speed-up | JS kernel images/s | syn. events / MACs | simulator memory / weights |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.label} | ${r.layers} | \`${r.run}\` | ${r.disagreements === 0 ? `**all ${fmt(r.images)}**` : `${fmt(r.images - r.disagreements)} of ${fmt(r.images)}`} | ${pct(r.accuracy)} | ${fmt(r.tfjsPerSecond)} | ${fmt(r.simPerSecond)} | **${(r.simPerSecond / r.tfjsPerSecond).toFixed(1)}×** | ${fmt(r.jsKernelPerSecond)} | ${r.eventsPerMac.toFixed(3)} | ${(r.memoryBytes / r.weightBytes).toFixed(2)} (${fmt(r.memoryBytes)} B / ${fmt(r.weightBytes)} B) |`,
    ),
  ].join('\n');
  process.stdout.write(`${table}\n`);
  if (write) record('<!-- SIMULATOR:START -->', '<!-- SIMULATOR:END -->', table);
}

/** Trains quickstart with binary and with analog input encoding and compares spiking accuracy. */
async function encodingBench(): Promise<void> {
  await initBackend('wasm');
  const base = parse(readFileSync(join(root, 'configs', 'quickstart.yaml'), 'utf8')) as { name: string; model: { input_encoding: string } };
  const tmp = mkdtempSync(join(tmpdir(), 'whetstone-encoding-'));
  const rows: string[] = [];
  try {
    for (const encoding of ['binary', 'analog']) {
      const config = { ...base, name: `quickstart-${encoding}`, model: { ...base.model, input_encoding: encoding } };
      const file = join(tmp, `${encoding}.yaml`);
      writeFileSync(file, stringify(config));
      log(`training quickstart with ${encoding} input`);
      const { runDir, summary } = await trainExperiment(file, { outDir: join(root, 'runs', 'bench'), backend: 'wasm' }, { onEpoch: (m) => log(`  epoch ${m.epoch}: spiking val ${(m.spiking_val_accuracy ?? 0).toFixed(4)}`) });
      const network = await convertModelDir(join(runDir, 'model'));
      const data = await loadDataset({ name: 'mnist', validation: 0 });
      const r = evaluateSpikingNetwork(network, data.test, { dataset: 'mnist' });
      rows.push(`| ${encoding} | ${pct(summary.unsharpened_accuracy)} | ${pct(r.accuracy)} | ${fmt(r.input_active_per_inference)} ${encoding === 'binary' ? 'spikes' : 'non-zero values'} | ${fmt(r.totals.synaptic_events_per_inference)} | ${encoding === 'binary' ? 'every target (spikes only)' : 'targets that accept real-valued input current'} | \`${runDir.replace(root, '')}\` |`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const table = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machine()} with \`npm run bench -- encoding\`: configs/quickstart.yaml trained twice, changing only \`model.input_encoding\`; accuracy on the 10,000 MNIST test images (simulator).`,
    '',
    '| input encoding | unsharpened accuracy | spiking accuracy | input per image | synaptic events per image | exports to | run |',
    '|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
  process.stdout.write(`${table}\n`);
  if (write) record('<!-- ENCODING:START -->', '<!-- ENCODING:END -->', table);
}

await (args[0] === 'encoding' ? encodingBench() : speedBench());
