/**
 * Training throughput (`npm run bench:train`): images/s of one optimizer step per batch for the
 * issue's small MNIST CNN and the configs' networks (bench/networks.ts), on each tfjs backend
 * asked for and with 1…N gradient workers (src/train/parallel.ts, what `whetstone train
 * --workers` runs), side by side with the same networks in PyTorch on the CPU
 * (bench/torch_reference.py) at the same number of threads, in the same run.
 *
 *   npm run bench:train                                   # every network, wasm, workers 1 and #cores
 *   npm run bench:train -- --only mnist-small,mnist-cnn   # some networks
 *   npm run bench:train -- --backends wasm,cpu --workers 1,2 --repeats 7 --seconds 2
 *   npm run bench:train -- --write                        # … and record the table in docs/results.md
 *
 * Method: every engine (tfjs backend × workers, PyTorch × threads) gets the same batch of real
 * MNIST images and is warmed up; then `--repeats` rounds, each timing every engine in turn for
 * about `--seconds` (the same whole number of steps in every round), so that load from other
 * processes falls on all engines alike. Reported: the median images/s over the rounds (and the
 * range), and the ratio of each tfjs engine to PyTorch at the same thread count. The machine's
 * load average before and after is printed with the table: on a shared machine absolute figures
 * move, ratios much less. PyTorch is looked for as $WHETSTONE_TORCH_PYTHON, /usr/bin/python3,
 * python3 (Debian: `apt-get install python3-torch`); without it the reference column is empty.
 */
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { initBackend, isTfjsNodeInstalled, type BackendName } from '../src/backend/index.js';
import { loadDataset } from '../src/data/index.js';
import { tf } from '../src/model/tf.js';
import { createTrainer, type BatchTrainer } from '../src/train/parallel.js';
import { writeFileAtomic } from '../src/util/atomic.js';
import { benchBatch, benchNetworks, type BenchNetwork } from './networks.js';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const list = (name: string) => opt(name)?.split(',').map((s) => s.trim()).filter((s) => s !== '');
const log = (s: string) => process.stderr.write(`${s}\n`);

const cores = availableParallelism();
const repeats = Number(opt('--repeats') ?? 5);
const seconds = Number(opt('--seconds') ?? 1.5);
const workerCounts = (list('--workers') ?? [...new Set(['1', String(cores)])]).map(Number);
const backends = (list('--backends') ?? [...(isTfjsNodeInstalled() ? ['tfjs-node'] : []), 'wasm']) as Exclude<BackendName, 'auto'>[];
const only = list('--only');
const write = args.includes('--write');
const shownArgs = args.filter((a) => a !== '--write');

interface Engine {
  label: string;
  threads: number;
  kind: 'tfjs' | 'torch';
  /** Runs `steps` training steps; resolves with the seconds they took. */
  time(steps: number): Promise<number>;
  close(): Promise<void>;
  samples: number[];
  steps: number;
}

// ───────────────────────── PyTorch reference (one child process) ─────────────────────────

class TorchReference {
  private readonly lines: AsyncIterator<string>;
  private constructor(
    private readonly child: ChildProcessByStdio<Writable, Readable, null>,
    readonly version: string,
  ) {
    this.lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }

  static find(): string | undefined {
    const candidates = [process.env['WHETSTONE_TORCH_PYTHON'], '/usr/bin/python3', 'python3'].filter((c): c is string => !!c);
    return candidates.find((py) => spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
  }

  static start(python: string): TorchReference {
    const child = spawn(python, [join(root, 'bench', 'torch_reference.py')], { stdio: ['pipe', 'pipe', 'inherit'] });
    const version = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' }).stdout.trim();
    return new TorchReference(child, version);
  }

  async ask(cmd: Record<string, unknown>): Promise<Record<string, unknown>> {
    this.child.stdin.write(`${JSON.stringify(cmd)}\n`);
    const line = await this.lines.next();
    if (line.done) throw new Error('the PyTorch reference process ended');
    return JSON.parse(line.value) as Record<string, unknown>;
  }

  stop(): void {
    this.child.stdin.end();
  }
}

// ───────────────────────── engines ─────────────────────────

async function tfjsEngine(net: BenchNetwork, backend: Exclude<BackendName, 'auto'>, workers: number, batch: { x: Float32Array; labels: Uint8Array }): Promise<Engine> {
  await initBackend(backend);
  const { model } = net.build();
  let trainer: BatchTrainer | undefined = await createTrainer({ model, shape: [28, 28, 1], classes: net.classes, workers, backend });
  const b = { x: batch.x, y: batch.labels, count: net.batchSize };
  return {
    label: `tfjs ${backend}, ${workers} worker${workers > 1 ? 's' : ''}`,
    threads: workers,
    kind: 'tfjs',
    samples: [],
    steps: 1,
    async time(steps) {
      await tf.setBackend(backend === 'tfjs-node' ? 'tensorflow' : backend);
      const t0 = performance.now();
      for (let s = 0; s < steps; s++) await trainer!.step(b, s);
      return (performance.now() - t0) / 1000;
    },
    async close() {
      await trainer?.close();
      trainer = undefined;
      model.dispose();
    },
  };
}

async function torchEngine(torch: TorchReference, id: string, threads: number): Promise<Engine> {
  return {
    label: `PyTorch ${torch.version} CPU, ${threads} thread${threads > 1 ? 's' : ''}`,
    threads,
    kind: 'torch',
    samples: [],
    steps: 1,
    async time(steps) {
      return (await torch.ask({ cmd: 'time', id, threads, steps }))['seconds'] as number;
    },
    async close() {},
  };
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const load = () => loadavg().map((l) => l.toFixed(2)).join(', ');

interface Row {
  net: BenchNetwork;
  engines: Engine[];
}

async function measure(net: BenchNetwork, torch: TorchReference | undefined, tmp: string): Promise<Row> {
  const data = await loadDataset({ name: 'mnist', validation: 0 });
  const batch = benchBatch(data, net.batchSize, 1);
  const engines: Engine[] = [];
  for (const backend of backends) for (const w of workerCounts) engines.push(await tfjsEngine(net, backend, w, batch));
  if (torch) {
    const xFile = join(tmp, `${net.id}.f32`);
    const lFile = join(tmp, `${net.id}.u8`);
    writeFileSync(xFile, batch.x);
    writeFileSync(lFile, batch.labels);
    await initBackend(backends[0]!);
    const { model, spec } = net.build();
    model.dispose();
    await torch.ask({ cmd: 'load', id: net.id, spec, batch: net.batchSize, classes: net.classes, x: xFile, labels: lFile });
    for (const t of workerCounts) engines.push(await torchEngine(torch, net.id, t));
  }
  // Warm-up (JIT, XNNPACK operator caches, worker start), then the steps per round from its timing.
  for (const e of engines) {
    await e.time(2);
    const one = await e.time(1);
    e.steps = Math.max(1, Math.round(seconds / Math.max(one, 1e-3)));
  }
  for (let r = 0; r < repeats; r++) {
    for (const e of engines) e.samples.push((e.steps * net.batchSize) / (await e.time(e.steps)));
    log(`  ${net.id} round ${r + 1}/${repeats}: ${engines.map((e) => `${e.label} ${fmt(e.samples.at(-1)!)}`).join(' · ')}`);
  }
  for (const e of engines) await e.close();
  return { net, engines };
}

function table(rows: Row[], loadBefore: string, loadAfter: string, torchVersion: string | undefined): string {
  const out: string[] = [];
  out.push(
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cores} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, tfjs ${tf.version.tfjs}${torchVersion ? `, PyTorch ${torchVersion} (Debian python3-torch)` : ''}, with \`npm run bench:train${shownArgs.length > 0 ? ` -- ${shownArgs.join(' ')}` : ''}\`. ` +
      `Median images/s of ${repeats} interleaved rounds (range in brackets), one training step per batch on a fixed batch of MNIST images. ` +
      `Ratio: tfjs ÷ PyTorch at the same number of threads. Load average (1, 5, 15 min) before: ${loadBefore}; after: ${loadAfter}.`,
  );
  out.push('', '| network | batch | engine | images/s | vs PyTorch |', '|---|---|---|---|---|');
  for (const { net, engines } of rows) {
    for (const e of engines) {
      const ref = engines.find((t) => t.kind === 'torch' && t.threads === e.threads);
      const ratio = e.kind === 'tfjs' && ref ? `**${(median(e.samples) / median(ref.samples)).toFixed(2)}×**` : '';
      out.push(`| \`${net.id}\` | ${net.batchSize} | ${e.label} | ${fmt(median(e.samples))} (${fmt(Math.min(...e.samples))}–${fmt(Math.max(...e.samples))}) | ${ratio} |`);
    }
  }
  out.push('', 'Networks:', ...rows.map(({ net }) => `- \`${net.id}\`: ${net.describe}`));
  return out.join('\n');
}

function record(text: string): void {
  const file = join(root, 'docs', 'results.md');
  const [start, end] = ['<!-- TRAINING:START -->', '<!-- TRAINING:END -->'];
  let doc = existsSync(file) ? readFileSync(file, 'utf8') : '# Results\n';
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  doc = i >= 0 && j > i ? `${doc.slice(0, i + start.length)}\n${text}\n${doc.slice(j)}` : `${doc.trimEnd()}\n\n## Training throughput (\`npm run bench:train\`)\n\n${start}\n${text}\n${end}\n`;
  writeFileAtomic(file, doc);
  log(`wrote ${file}`);
}

const python = args.includes('--no-torch') ? undefined : TorchReference.find();
if (!python && !args.includes('--no-torch')) log('PyTorch not found ($WHETSTONE_TORCH_PYTHON, /usr/bin/python3, python3): no reference column');
const torch = python ? TorchReference.start(python) : undefined;
const tmp = mkdtempSync(join(tmpdir(), 'whetstone-bench-train-'));
const loadBefore = load();
log(`load average ${loadBefore}; backends ${backends.join(', ')}; workers ${workerCounts.join(', ')}; ${repeats} rounds of ~${seconds} s`);
const rows: Row[] = [];
try {
  for (const net of benchNetworks(root)) {
    if (only && !only.includes(net.id)) continue;
    log(`${net.id}: ${net.describe}`);
    rows.push(await measure(net, torch, tmp));
  }
} finally {
  torch?.stop();
  rmSync(tmp, { recursive: true, force: true });
}
const text = table(rows, loadBefore, load(), torch?.version);
process.stdout.write(`${text}\n`);
if (write) record(text);
