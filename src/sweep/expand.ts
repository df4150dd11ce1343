/**
 * A sweep's runs as a pure function of its file: grid points × random samples × seeds, each run a
 * list of `key = value` assignments on top of the base experiment, with a deterministic id (the
 * same assignments always give the same id, on every machine), so that a rerun finds its runs and
 * a queue never holds one run twice.
 */
import { createHash } from 'node:crypto';
import { SeededRandom } from '../util/random.js';
import type { ParamSpec, SweepConfig } from './schema.js';

/** One `key = value` a run sets on top of the base experiment. */
export interface Assignment {
  /** Dotted config key, e.g. `training.optimizer.learning_rate`. */
  readonly key: string;
  readonly value: unknown;
}

export interface PlannedRun {
  /** Position in expansion order (0-based). */
  readonly index: number;
  readonly assignments: readonly Assignment[];
}

/** A spec that gives no value at all, found before anything runs. */
export interface ExpansionProblem {
  /** Path in the sweep file, e.g. ['grid', 'training.epochs']. */
  readonly path: readonly (string | number)[];
  readonly message: string;
}

export interface Expansion {
  readonly runs: readonly PlannedRun[];
  /** Runs the budget's max_runs left out. */
  readonly dropped: number;
  readonly problems: readonly ExpansionProblem[];
}

/** Random draws are rounded to this many significant digits, so configs and ids stay readable. */
const DRAW_DIGITS = 6;
/** Guards against float drift in `low + i·step` (0.1 + 2·0.1 must still reach 0.3). */
const STEP_EPSILON = 1e-9;

const round = (v: number) => Number(v.toPrecision(DRAW_DIGITS));

/** The points of a spec for a grid; undefined when it has no finite set of points (a range without step). */
export function gridPoints(spec: ParamSpec): unknown[] | undefined {
  if (Array.isArray(spec)) return spec;
  if ('values' in spec) return spec.values;
  if ('range' in spec) {
    if (spec.step === undefined) return undefined;
    const [lo, hi] = spec.range;
    const points: number[] = [];
    for (let i = 0; lo + i * spec.step <= hi + STEP_EPSILON * Math.max(1, Math.abs(hi)); i++) points.push(round(lo + i * spec.step));
    return points;
  }
  if (spec.num === undefined) return undefined;
  const [lo, hi] = spec.log_range;
  if (lo > hi) return [];
  if (spec.num === 1) return [lo];
  const ratio = Math.log(hi / lo) / (spec.num - 1);
  return Array.from({ length: spec.num }, (_, i) => round(lo * Math.exp(ratio * i)));
}

function emptiness(spec: ParamSpec, inGrid: boolean): string | undefined {
  if (!Array.isArray(spec) && 'range' in spec && spec.range[0] > spec.range[1]) return `range [${spec.range.join(', ')}] is empty (low > high)`;
  if (!Array.isArray(spec) && 'log_range' in spec && spec.log_range[0] > spec.log_range[1]) return `log_range [${spec.log_range.join(', ')}] is empty (low > high)`;
  const points = gridPoints(spec);
  if (points === undefined) return inGrid ? ('range' in spec ? 'a range in a grid needs a step' : 'a log_range in a grid needs num') : undefined;
  return points.length === 0 ? 'gives no values (an empty list)' : undefined;
}

function draw(spec: ParamSpec, rng: SeededRandom): unknown {
  const points = gridPoints(spec);
  if (points !== undefined) return points[rng.int(points.length)];
  if ('range' in spec) return round(spec.range[0] + rng.next() * (spec.range[1] - spec.range[0]));
  if (!('log_range' in spec)) throw new Error('unreachable: a values spec always has points');
  const [lo, hi] = spec.log_range;
  return round(lo * Math.exp(rng.next() * Math.log(hi / lo)));
}

/** Every combination of the grid's values, keys in file order, the last key varying fastest. */
function cartesian(grid: readonly (readonly [string, readonly unknown[]])[]): Assignment[][] {
  let combos: Assignment[][] = [[]];
  for (const [key, values] of grid) combos = combos.flatMap((c) => values.map((value) => [...c, { key, value }]));
  return combos;
}

export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * `learning_rate-0.5_seed-2-3f9a1c2e`: the last key segment and value of each assignment, then a
 * hash of `identity` (the run's resolved experiment, so that two sweeps with different bases but
 * the same name never share a run), or of the assignments alone.
 */
export function runId(assignments: readonly Assignment[], identity: unknown = assignments.map((a) => [a.key, a.value])): string {
  const hash = createHash('sha256').update(canonical(identity)).digest('hex').slice(0, 8);
  const slug = assignments
    .map((a) => `${a.key.split('.').at(-1)}-${typeof a.value === 'object' && a.value !== null ? 'x' : String(a.value)}`)
    .join('_')
    .replace(/[^A-Za-z0-9.-]+/g, '_')
    .slice(0, 48);
  return slug === '' ? `run-${hash}` : `${slug}-${hash}`;
}

/** Expands a validated sweep into its runs (pure: the same file always gives the same runs). */
export function expandSweep(sweep: Pick<SweepConfig, 'grid' | 'random' | 'seeds' | 'budget'>): Expansion {
  const problems: ExpansionProblem[] = [];
  const grid = Object.entries(sweep.grid ?? {});
  for (const [key, spec] of grid) {
    const why = emptiness(spec, true);
    if (why !== undefined) problems.push({ path: ['grid', key], message: why });
  }
  const random = Object.entries(sweep.random?.params ?? {});
  for (const [key, spec] of random) {
    const why = emptiness(spec, false);
    if (why !== undefined) problems.push({ path: ['random', 'params', key], message: why });
    if (sweep.grid?.[key] !== undefined) problems.push({ path: ['random', 'params', key], message: 'is also a grid key: vary it in one place' });
  }
  if (sweep.seeds !== undefined && (sweep.grid?.seed !== undefined || sweep.random?.params.seed !== undefined)) {
    problems.push({ path: ['seeds'], message: '`seed` is also swept in grid or random: give the seeds in one place' });
  }
  if (problems.length > 0) return { runs: [], dropped: 0, problems };

  const gridCombos = cartesian(grid.map(([key, spec]) => [key, gridPoints(spec)!] as const));
  let samples: Assignment[][] = [[]];
  if (sweep.random !== undefined) {
    const rng = new SeededRandom(sweep.random.seed);
    samples = Array.from({ length: sweep.random.samples }, () => random.map(([key, spec]) => ({ key, value: draw(spec, rng) })));
  }
  const seeds: Assignment[][] = sweep.seeds === undefined ? [[]] : sweep.seeds.map((s) => [{ key: 'seed', value: s }]);
  const all = gridCombos.flatMap((g) => samples.flatMap((r) => seeds.map((s) => [...g, ...r, ...s])));

  // Two draws may coincide: a run is one configuration, so duplicates are kept once.
  const seen = new Set<string>();
  const unique = all.filter((assignments) => {
    const id = runId(assignments);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  const max = sweep.budget.max_runs ?? unique.length;
  const runs = unique.slice(0, max).map((assignments, index) => ({ index, assignments }));
  return { runs, dropped: unique.length - runs.length, problems: [] };
}
