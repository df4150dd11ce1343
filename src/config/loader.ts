/**
 * Reads an experiment YAML file and validates it against the schema. Every problem is
 * reported as `file:line:col dotted.path: message`, pointing at the offending value (or key),
 * so an editor can jump to it.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, resolve } from 'node:path';
import { LineCounter, parse, parseDocument, type Document } from 'yaml';
import { InputError } from '../errors.js';
import { issueProblems, nodeOffset, type ConfigProblem, type Key } from './yaml-paths.js';

export type { ConfigProblem } from './yaml-paths.js';
import { experimentSchema, type ExperimentConfig } from './schema.js';
import { describeFsError } from '../util/fs-errors.js';
import { pathHint } from '../util/near-miss.js';

export interface ConfigResult {
  /** The resolved config, when there were no errors. */
  readonly config?: ExperimentConfig;
  readonly warnings: readonly ConfigProblem[];
  readonly errors: readonly ConfigProblem[];
}

/** A `--set key.path=value` from the command line, applied on top of the file. */
export interface ConfigOverride {
  readonly text: string;
  readonly path: readonly Key[];
  readonly value: unknown;
}

/** Parses `training.epochs=3` (the value is read as YAML: numbers, booleans, lists). Throws InputError. */
export function parseOverride(text: string): ConfigOverride {
  const eq = text.indexOf('=');
  const key = text.slice(0, eq).trim();
  if (eq <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*(\.([A-Za-z_][A-Za-z0-9_]*|\d+))*$/.test(key)) {
    throw new InputError(`--set '${text}': expected key.path=value, e.g. training.epochs=5 or model.layers.1.units=64`);
  }
  let value: unknown;
  try {
    value = parse(text.slice(eq + 1));
  } catch (e) {
    throw new InputError(`--set '${text}': the value is not valid YAML (${firstLine((e as Error).message)})`);
  }
  return { text, path: key.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k)), value };
}

/** `configs/x.yaml:12:5 training.epochs: must be a positive integer` */
export function formatProblem(p: ConfigProblem): string {
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}:${p.column ?? 1}`;
  return p.path === '' ? `${where} ${p.message}` : `${where} ${p.path}: ${p.message}`;
}

export interface ParseOptions {
  /**
   * The network is given separately (`whetstone sharpen`): the file may omit `model` or
   * `model.layers`; the resolved config then holds a placeholder `[{type: flatten}]` there.
   */
  readonly modelGiven?: boolean;
}

/** Config files larger than this are refused before parsing: no real experiment is that long. */
const MAX_CONFIG_BYTES = 1 << 20;

/**
 * Validates YAML text. `file` names it in messages; relative paths inside the config resolve
 * against `baseDir` (by default the file's directory).
 */
export function parseExperiment(
  text: string,
  file: string,
  baseDir: string = dirname(resolve(file)),
  overrides: readonly ConfigOverride[] = [],
  options: ParseOptions = {},
): ConfigResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined) => {
    if (offset === undefined) return {};
    const pos = lines.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  const problem = (path: readonly Key[], message: string, offset?: number): ConfigProblem => {
    // A problem in a value given on the command line is reported against that flag.
    const override = overrides.find((o) => o.path.length <= path.length && o.path.every((k, i) => String(k) === String(path[i])));
    if (override) return { file: `--set ${override.text}`, path: path.join('.'), message };
    return { file, path: path.join('.'), message, ...at(offset) };
  };

  if (doc.errors.length > 0) {
    return {
      warnings: [],
      errors: doc.errors.map((e) => problem([], `invalid YAML: ${firstLine(e.message)}`, e.pos[0])),
    };
  }
  for (const o of overrides) {
    try {
      doc.setIn(o.path, doc.createNode(o.value));
    } catch {
      return { warnings: [], errors: [{ file: `--set ${o.text}`, path: o.path.join('.'), message: 'cannot be set here (a parent is not a mapping or list)' }] };
    }
  }
  let data: unknown;
  try {
    // yaml caps alias expansion (maxAliasCount), which defuses "billion laughs" documents.
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return { warnings: [], errors: [problem([], `invalid YAML: ${firstLine((e as Error).message)}`)] };
  }
  if (data === null || data === undefined) {
    return { warnings: [], errors: [problem([], 'is empty: an experiment needs at least a `model` section')] };
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    return { warnings: [], errors: [problem([], 'must be a mapping of sections (dataset, model, training, sharpening)', doc.contents?.range?.[0])] };
  }

  if (options.modelGiven === true) {
    // The network comes from elsewhere (`sharpen`): model.layers may be left out; a placeholder stands in.
    const model = (data as Record<string, unknown>).model;
    if (model === undefined || model === null || (typeof model === 'object' && !Array.isArray(model) && !('layers' in model))) {
      data = { ...data, model: { ...(model ?? {}), layers: [{ type: 'flatten' }] } };
    }
  }
  const parsed = experimentSchema.safeParse(data);
  if (!parsed.success) {
    const errors = parsed.error.issues.flatMap((issue) => issueProblems(experimentSchema, issue, data, doc, problem));
    errors.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
    return { warnings: [], errors };
  }

  const config = resolvePaths(parsed.data, baseDir);
  return { config, warnings: crossFieldWarnings(config, doc, problem), errors: [] };
}

/**
 * Reads and validates a config file. Never throws for bad content; throws InputError if unreadable.
 * `shown` is how the file is named in messages (the path as the user typed it).
 */
export function loadExperimentFile(path: string, shown: string = path, overrides: readonly ConfigOverride[] = [], options: ParseOptions = {}): ConfigResult {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new InputError(`${shown}: is a directory, expected an experiment YAML file`);
    size = st.size;
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${shown}: cannot read config (${describeFsError(e)})`, pathHint(path));
  }
  if (size > MAX_CONFIG_BYTES) {
    throw new InputError(`${shown}: config is ${size} bytes, larger than the ${MAX_CONFIG_BYTES}-byte limit`);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`${shown}: cannot read config (${describeFsError(e)})`);
  }
  const result = parseExperiment(text, shown, dirname(resolve(path)), overrides, options);
  if (result.config === undefined || result.config.name !== undefined) return result;
  // The file name names the experiment unless the config does.
  const name = basename(path, extname(path)).replace(/[^A-Za-z0-9._-]/g, '-');
  return { ...result, config: { ...result.config, name } };
}

/** Loads a config and throws one InputError listing every problem (one per line) if it is invalid. */
export function loadExperiment(
  path: string,
  shown: string = path,
  overrides: readonly ConfigOverride[] = [],
  options: ParseOptions = {},
): { config: ExperimentConfig; warnings: readonly ConfigProblem[] } {
  const result = loadExperimentFile(path, shown, overrides, options);
  if (result.config === undefined) {
    throw new InputError(result.errors.map(formatProblem).join('\n'));
  }
  return { config: result.config, warnings: result.warnings };
}

export { describeFsError } from '../util/fs-errors.js';

function firstLine(message: string): string {
  return message.split('\n')[0]!.trim();
}

/** Relative dataset paths are relative to the config file, so a config works from any directory. */
function resolvePaths(config: ExperimentConfig, baseDir: string): ExperimentConfig {
  const path = config.dataset.path;
  if (path === undefined || isAbsolute(path)) return config;
  return { ...config, dataset: { ...config.dataset, path: resolve(baseDir, path) } };
}

function crossFieldWarnings(
  config: ExperimentConfig,
  doc: Document,
  problem: (path: readonly Key[], message: string, offset?: number) => ConfigProblem,
): ConfigProblem[] {
  const warnings: ConfigProblem[] = [];
  const s = config.sharpening;
  const epochs = config.training.epochs;
  if (s.schedule === 'simple' && s.start_epoch >= epochs) {
    warnings.push(
      problem(['sharpening', 'start_epoch'], `sharpening starts at epoch ${s.start_epoch} but training has only ${epochs} epochs`, nodeOffset(doc, ['sharpening', 'start_epoch'])),
    );
  }
  if (s.schedule === 'adaptive' && s.min_init_epochs >= epochs) {
    warnings.push(
      problem(['sharpening', 'min_init_epochs'], `sharpening cannot start before epoch ${s.min_init_epochs} but training has only ${epochs} epochs`, nodeOffset(doc, ['sharpening', 'min_init_epochs'])),
    );
  }
  return warnings;
}
