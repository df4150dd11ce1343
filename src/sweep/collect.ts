/**
 * `sweep collect`: the summary of a sweep whose runs trained elsewhere (CI jobs of a `--matrix`,
 * each `whetstone sweep SWEEP.yaml --only ID`), from their run directories. A run directory is
 * matched to its run by name (`runs/<id>`, as every sweep lays them out); given a folder, its
 * run directories (and those under its `runs/`) are looked for one level down.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { InputError } from '../errors.js';
import { SWEEP_JSON } from './layout.js';
import type { LoadedSweep } from './load.js';
import { endedOnDisk } from './run-child.js';
import { resultOf } from './local.js';
import { summarizeSweep, writeSweepSummary, type RunResult, type SweepSummary } from './summary.js';

const isRunDir = (d: string) => existsSync(join(d, 'config.yaml'));
const subdirs = (d: string) =>
  readdirSync(d, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => join(d, e.name));

export function collectRuns(sweep: LoadedSweep, dirs: readonly string[], shown: readonly string[] = dirs): SweepSummary {
  const ids = new Set(sweep.runs.map((r) => r.id));
  const found = new Map<string, string>();
  dirs.forEach((dir, i) => {
    const name = shown[i] ?? dir;
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(`${name}: not a directory`);
    if (isRunDir(dir)) {
      if (!ids.has(basename(dir))) throw new InputError(`${name}: not a run of ${sweep.name} (its runs are named by id, see whetstone sweep --matrix)`);
      found.set(basename(dir), dir);
      return;
    }
    const candidates = [...subdirs(dir), ...(existsSync(join(dir, 'runs')) ? subdirs(join(dir, 'runs')) : [])];
    for (const c of candidates) if (isRunDir(c) && ids.has(basename(c))) found.set(basename(c), c);
  });
  if (found.size === 0) throw new InputError(`${shown.join(', ')}: no run directory of ${sweep.name} found there`);
  const results = sweep.runs.map((run): RunResult => {
    const dir = found.get(run.id);
    if (dir === undefined) return resultOf(sweep, run, undefined);
    const outcome = endedOnDisk(dir);
    const base = resultOf(sweep, run, outcome ?? { status: 'interrupted' });
    return { ...base, run_dir: dir };
  });
  const summary = summarizeSweep(sweep.name, sweep.sweep.metric, sweep.sweep.goal, results);
  writeSweepSummary(join(sweep.dir, SWEEP_JSON), summary);
  return summary;
}
