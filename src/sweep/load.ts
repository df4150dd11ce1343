/**
 * Reads a sweep file and turns it into runs, each a fully validated experiment. Everything that can
 * be wrong is found here, before a run starts or a job is enqueued: the file against the sweep
 * schema, the base experiment against the experiment schema, every swept key against the
 * experiment schema's keys, empty ranges, and every expanded run's config. Problems are reported
 * as `file:line:col path: message`, like experiment files.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument, stringify } from 'yaml';
import { formatProblem, parseExperiment, type ConfigOverride, type ConfigProblem } from '../config/loader.js';
import { didYouMean } from '../config/messages.js';
import { experimentSchema, type ExperimentConfig } from '../config/schema.js';
import { issueProblems, keyOffset, knownKeys, nodeOffset, unwrap, valueAt, type Key } from '../config/yaml-paths.js';
import { InputError } from '../errors.js';
import { SUMMARY_KEYS } from '../train/summary.js';
import { describeFsError } from '../util/fs-errors.js';
import { expandSweep, runId, type Assignment } from './expand.js';
import { sweepSchema, type SweepConfig } from './schema.js';

/** One run of a sweep, ready to train. */
export interface SweepRun {
  readonly id: string;
  readonly index: number;
  readonly assignments: readonly Assignment[];
  readonly config: ExperimentConfig;
  /** The config as YAML: written next to the run, or carried in its queue job. */
  readonly yaml: string;
}

export interface LoadedSweep {
  readonly name: string;
  readonly file: string;
  readonly sweep: SweepConfig;
  /** The sweep's folder: `<output_dir>/<name>`. */
  readonly dir: string;
  readonly runs: readonly SweepRun[];
  /** Runs budget.max_runs left out. */
  readonly dropped: number;
}

/** No sweep file is that long; refused before parsing, like experiment files. */
const MAX_SWEEP_BYTES = 1 << 20;
/** At most this many problems are listed: one bad key can fail every run. */
const MAX_PROBLEMS = 10;

function readText(path: string, shown: string, what: string): string {
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new InputError(`${shown}: is a directory, expected ${what}`);
    if (st.size > MAX_SWEEP_BYTES) throw new InputError(`${shown}: is ${st.size} bytes, larger than the ${MAX_SWEEP_BYTES}-byte limit`);
    return readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${shown}: cannot read ${what} (${describeFsError(e)})`);
  }
}

/** Why a dotted key names nothing in the experiment schema (for the base config `data`), or undefined. */
export function unknownKeyReason(key: string, data: unknown): string | undefined {
  const path: Key[] = key.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k));
  let s = unwrap(experimentSchema, data);
  for (let i = 0; i < path.length; i++) {
    if (s === undefined) return `'${path.slice(0, i).join('.')}' has no keys`;
    const def = s._zod.def as unknown as Record<string, unknown>;
    const k = path[i]!;
    let next: unknown;
    if (def.type === 'object') {
      next = (def.shape as Record<string, unknown>)[String(k)];
      if (next === undefined) {
        const known = knownKeys(experimentSchema, path.slice(0, i), data);
        const where = i === 0 ? 'an experiment' : `'${path.slice(0, i).join('.')}'`;
        return `is not a key of the experiment schema: ${where} has no '${k}'${didYouMean(String(k), known)}`;
      }
    } else if (def.type === 'array' && typeof k === 'number') next = def.element;
    else if (def.type === 'tuple' && typeof k === 'number') next = (def.items as unknown[])[k];
    else return `is not a key of the experiment schema: '${path.slice(0, i).join('.')}' has no '${k}'`;
    s = next === undefined ? undefined : unwrap(next as typeof s & object, valueAt(data, path.slice(0, i + 1)));
  }
  return undefined;
}

function sweptKeys(sweep: SweepConfig): { key: string; at: Key[] }[] {
  return [
    ...Object.keys(sweep.grid ?? {}).map((key) => ({ key, at: ['grid'] })),
    ...Object.keys(sweep.random?.params ?? {}).map((key) => ({ key, at: ['random', 'params'] })),
  ];
}

/**
 * Loads a sweep file. `cwd` resolves output_dir (as for experiments); `outDir` overrides it.
 * Throws one InputError listing the problems (one per line) when anything is wrong.
 */
export function loadSweep(path: string, shown: string = path, opts: { cwd?: string; outDir?: string } = {}): LoadedSweep {
  const text = readText(path, shown, 'a sweep YAML file');
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problem = (p: readonly Key[], message: string, offset?: number): ConfigProblem => {
    const pos = offset === undefined ? undefined : lines.linePos(offset);
    return { file: shown, path: p.join('.'), message, ...(pos === undefined ? {} : { line: pos.line, column: pos.col }) };
  };
  const fail = (problems: readonly ConfigProblem[]): never => {
    throw new InputError(problems.slice(0, MAX_PROBLEMS).map(formatProblem).join('\n'));
  };
  if (doc.errors.length > 0) fail(doc.errors.map((e) => problem([], `invalid YAML: ${e.message.split('\n')[0]!.trim()}`, e.pos[0])));
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    fail([problem([], `invalid YAML: ${(e as Error).message.split('\n')[0]}`)]);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) fail([problem([], 'must be a mapping with at least `base` and `grid`, `random` or `seeds`')]);
  const parsed = sweepSchema.safeParse(data);
  if (!parsed.success) fail(parsed.error.issues.flatMap((issue) => issueProblems(sweepSchema, issue, data, doc, problem)));
  const sweep = parsed.data!;
  if (!SUMMARY_KEYS.includes(sweep.metric)) {
    fail([problem(['metric'], `'${sweep.metric}' is not a key of summary.json${didYouMean(sweep.metric, SUMMARY_KEYS)}`, nodeOffset(doc, ['metric']))]);
  }
  const name = sweep.name ?? basename(path, extname(path)).replace(/[^A-Za-z0-9._-]/g, '-');

  // The base experiment, validated on its own first: its problems point into its own file.
  const sweepDir = dirname(resolve(path));
  let baseText: string;
  let baseShown: string;
  let baseDir: string;
  let baseName: string | undefined;
  if (typeof sweep.base === 'string') {
    const basePath = isAbsolute(sweep.base) ? sweep.base : resolve(sweepDir, sweep.base);
    baseShown = sweep.base;
    baseDir = dirname(basePath);
    try {
      baseText = readText(basePath, sweep.base, 'an experiment YAML file');
    } catch (e) {
      return fail([problem(['base'], (e as Error).message, nodeOffset(doc, ['base']))]);
    }
    baseName = basename(basePath, extname(basePath)).replace(/[^A-Za-z0-9._-]/g, '-');
  } else {
    const checked = experimentSchema.safeParse(sweep.base);
    if (!checked.success) fail(checked.error.issues.flatMap((issue) => issueProblems(experimentSchema, issue, sweep.base, doc, problem, ['base'])));
    baseText = stringify(sweep.base);
    baseShown = `${shown} (base)`;
    baseDir = sweepDir;
  }
  const base = parseExperiment(baseText, baseShown, baseDir);
  if (base.config === undefined) fail(base.errors);
  const baseData: unknown = typeof sweep.base === 'string' ? parseDocument(baseText).toJS() : sweep.base;

  const keyProblems = sweptKeys(sweep).flatMap(({ key, at }) => {
    const why = unknownKeyReason(key, baseData);
    return why === undefined ? [] : [problem([...at, key], why, keyOffset(doc, at, key))];
  });
  if (keyProblems.length > 0) fail(keyProblems);
  if (sweep.grid === undefined && sweep.random === undefined && sweep.seeds === undefined) {
    fail([problem([], 'varies nothing: give `grid`, `random` or `seeds`', doc.contents?.range?.[0])]);
  }

  const expansion = expandSweep(sweep);
  if (expansion.problems.length > 0) fail(expansion.problems.map((p) => problem(p.path, p.message, nodeOffset(doc, p.path))));

  // Every run's config, validated by the experiment schema exactly as `train --set` would.
  const where = (key: string): { at: Key[]; offset?: number } => {
    if (key === 'seed' && sweep.grid?.seed === undefined && sweep.random?.params.seed === undefined) return { at: ['seeds'], offset: nodeOffset(doc, ['seeds']) };
    const at: Key[] = sweep.grid?.[key] !== undefined ? ['grid', key] : ['random', 'params', key];
    return { at, offset: nodeOffset(doc, at) };
  };
  const problems: ConfigProblem[] = [];
  const runs: SweepRun[] = [];
  for (const planned of expansion.runs) {
    const overrides: ConfigOverride[] = planned.assignments.map((a) => ({
      text: `${a.key}=${JSON.stringify(a.value)}`,
      path: a.key.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k)),
      value: a.value,
    }));
    const result = parseExperiment(baseText, baseShown, baseDir, overrides);
    if (result.config === undefined) {
      for (const e of result.errors) {
        const override = overrides.find((o) => e.file === `--set ${o.text}`);
        if (override === undefined) {
          problems.push(problem([], `run ${planned.assignments.map((a) => `${a.key}=${JSON.stringify(a.value)}`).join(', ')}: ${formatProblem(e)}`));
        } else {
          const { at, offset } = where(override.path.join('.'));
          problems.push(problem(at, `${override.text}: ${e.path === override.path.join('.') ? '' : `${e.path}: `}${e.message}`, offset));
        }
      }
      continue;
    }
    const config: ExperimentConfig = { ...result.config, name: result.config.name ?? baseName ?? name };
    runs.push({ id: runId(planned.assignments, config), index: planned.index, assignments: planned.assignments, config, yaml: stringify(config) });
  }
  if (problems.length > 0) fail([...new Map(problems.map((p) => [formatProblem(p), p])).values()]);

  const dir = resolve(opts.cwd ?? process.cwd(), opts.outDir ?? sweep.output_dir, name);
  return { name, file: resolve(path), sweep, dir, runs, dropped: expansion.dropped };
}
