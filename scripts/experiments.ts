/**
 * Runs the ready experiments in configs/ one after another through the real CLI and records what
 * they reached in docs/results.md (between the EXPERIMENTS markers), next to each target.
 *
 *   npm run experiments                       # all of them (hours on a 2-core machine)
 *   npm run experiments -- quickstart ci-smoke
 *   npm run experiments -- mnist-cnn --workers 1   # options after the names go to `whetstone train`
 *   npm run experiments -- --record runs/x/mnist-dense-20261128-130853 …
 *
 * `--record` takes finished runs of `whetstone train configs/NAME.yaml` (as the experiments run it,
 * but started by hand) instead of training: a run is recorded only when its resolved config.yaml
 * equals what configs/NAME.yaml resolves to today (all but `name`, which only labels the run), so a
 * row always describes the config in the repository. Date and machine come from the run's metadata.json.
 */
import { spawnSync } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import { loadExperiment } from '../src/config/loader.js';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { writeFileAtomic } from '../src/util/atomic.js';
import { cpus } from 'node:os';
import { join } from 'node:path';

interface Target {
  config: string;
  network: string;
  /** Minimum spiking test accuracy. */
  spiking: number;
  /** Largest allowed drop from the unsharpened accuracy, if any. */
  maxDrop?: number;
  note: string;
}

const TARGETS: Target[] = [
  { config: 'quickstart', network: 'dense, MNIST', spiking: 0.97, note: '≤ 10 min on 2 cores, wasm' },
  { config: 'mnist-dense', network: 'dense, MNIST', spiking: 0.98, note: '' },
  { config: 'mnist-cnn', network: 'CNN, MNIST', spiking: 0.99, maxDrop: 0.005, note: 'published Whetstone CNN: 98.1%' },
  { config: 'fashion-cnn', network: 'CNN, Fashion-MNIST', spiking: 0.9, note: '' },
  { config: 'ci-smoke', network: 'tiny dense, MNIST subset', spiking: 0.85, note: '1,000 test images, ≤ 60 s' },
];

const root = new URL('..', import.meta.url).pathname;
const outDir = join(root, 'runs', 'experiments');
const recording = process.argv[2] === '--record';
const firstOption = recording ? -1 : process.argv.slice(2).findIndex((a) => a.startsWith('-'));
const wanted = firstOption < 0 ? process.argv.slice(2) : process.argv.slice(2, 2 + firstOption);
const trainOptions = firstOption < 0 ? [] : process.argv.slice(2 + firstOption);
const selected = recording ? [] : TARGETS.filter((t) => wanted.length === 0 || wanted.includes(t.config));
const resultsFile = join(root, 'docs', 'results.md');
const pct = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : `${(v * 100).toFixed(2)}%`);

function newestRun(name: string, before: Set<string>): string | undefined {
  if (!existsSync(outDir)) return undefined;
  return readdirSync(outDir)
    .filter((d) => d.startsWith(`${name}-`) && !before.has(d))
    .map((d) => join(outDir, d))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
}

const rows: [string, string][] = [];

function row(t: Target, summary: any, status: string, measured: string): [string, string] {
  const reached =
    summary !== undefined &&
    summary.spiking_accuracy >= t.spiking &&
    (t.maxDrop === undefined || (summary.accuracy_drop !== null && summary.accuracy_drop <= t.maxDrop));
  return [
    t.config,
    `| \`${t.config}\` | ${t.network} | ≥ ${pct(t.spiking)}${t.maxDrop ? `, drop ≤ ${(t.maxDrop * 100).toFixed(1)} pt` : ''} | ${pct(summary?.spiking_accuracy)} | ${pct(summary?.unsharpened_accuracy)} | ${summary?.epochs ?? '—'} | ${summary ? `${(summary.wall_seconds / 60).toFixed(1)} min` : status} | ${summary?.backend ?? '—'} | ${reached ? 'yes' : '**no**'} | ${t.note} | ${measured} |`,
  ];
}

/**
 * The config file resolved through the schema (so a key added since a run, with its default, is no
 * difference) as plain JSON, and without the keys that only label a run: its name and where it was written.
 */
function experimentOf(file: string): { name: string; experiment: Record<string, unknown> } {
  const { output_dir: _dir, name, ...experiment } = JSON.parse(JSON.stringify(loadExperiment(file).config));
  return { name: String(name), experiment };
}

for (const dir of recording ? process.argv.slice(3) : []) {
  const { name, experiment: resolved } = experimentOf(join(dir, 'config.yaml'));
  // A run is recorded for the target whose config it trained, whatever it was called: the name
  // only labels the run directory (seeds come from `seed`), so a variant trained under its own
  // name and then committed as configs/NAME.yaml is that experiment.
  const t = TARGETS.find((x) => isDeepStrictEqual(resolved, experimentOf(join(root, 'configs', `${x.config}.yaml`)).experiment));
  if (t === undefined) {
    const named = TARGETS.some((x) => x.config === name);
    throw new Error(
      named
        ? `${dir}: its config.yaml differs from configs/${name}.yaml; not recorded`
        : `${dir}: its config.yaml ('${name}') equals none of configs/{${TARGETS.map((x) => x.config).join(',')}}.yaml; not recorded`,
    );
  }
  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
  const meta = JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8'));
  rows.push(row(t, summary, '', `${String(meta.ended_at).slice(0, 10)}, ${meta.machine.cores} × ${meta.machine.cpu}`));
  console.error(`== ${t.config}: recorded ${dir}${name === t.config ? '' : ` (trained as '${name}')`}, spiking ${pct(summary.spiking_accuracy)}`);
}
for (const t of selected) {
  const before = new Set(existsSync(outDir) ? readdirSync(outDir) : []);
  const args = ['bin/whetstone.js', 'train', `configs/${t.config}.yaml`, '--out', outDir, ...trainOptions];
  console.error(`\n== ${t.config}: node ${args.join(' ')}`);
  const started = Date.now();
  const run = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, CI: 'true' } });
  const wall = (Date.now() - started) / 1000;
  const dir = newestRun(t.config, before);
  const summary = dir && existsSync(join(dir, 'summary.json')) ? JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) : undefined;
  if (run.status === null) {
    // Killed by a signal: no result to record.
    console.error(`== ${t.config}: killed (${run.signal}), not recorded`);
    continue;
  }
  rows.push(row(t, summary, `exit ${run.status}`, `${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model.trim()}`));
  console.error(`== ${t.config}: exit ${run.status}, ${wall.toFixed(0)} s, spiking ${pct(summary?.spiking_accuracy)}`);
}

const start = '<!-- EXPERIMENTS:START -->';
const end = '<!-- EXPERIMENTS:END -->';
const doc = existsSync(resultsFile) ? readFileSync(resultsFile, 'utf8') : `# Results\n\n${start}\n${end}\n`;
const i = doc.indexOf(start);
const j = doc.indexOf(end);
const previous = i >= 0 && j > i ? doc.slice(i + start.length, j) : '';
// Keep the rows of experiments not run this time: each row records its own date and machine.
const rowFor = new Map<string, string>();
for (const line of previous.split('\n')) {
  const m = /^\| `([^`]+)` \|/.exec(line);
  if (m) rowFor.set(m[1]!, line);
}
for (const [config, row] of rows) rowFor.set(config, row);
const table = [
  `Each row: \`npm run experiments -- CONFIG\` (the real CLI, \`CI=true\`), on the machine and date in its last column.`,
  '',
  '| config | network | target (spiking, test) | spiking | unsharpened | epochs | wall time | backend | reached | notes | measured |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
  ...TARGETS.filter((t) => rowFor.has(t.config)).map((t) => rowFor.get(t.config)!),
].join('\n');
writeFileAtomic(resultsFile, i >= 0 && j > i ? `${doc.slice(0, i + start.length)}\n${table}\n${doc.slice(j)}` : `${doc}\n${start}\n${table}\n${end}\n`);
console.error(`\nwrote ${resultsFile}`);
