/**
 * Where a problem sits in a YAML document: the offset of the value (or key) at a dotted path, the
 * keys a zod schema accepts there, and zod issues turned into located problems. Shared by every
 * file the config machinery validates (experiments, sweeps), whatever its schema.
 */
import { isMap, isPair, isScalar, isSeq, type Document, type Node } from 'yaml';
import type { core, ZodType } from 'zod';
import { didYouMean, issueMessage } from './messages.js';

export type Key = string | number;

/** One problem found in a config file. */
export interface ConfigProblem {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  /** Dotted path of the field, e.g. `training.epochs` or `model.layers.2.filters`. */
  readonly path: string;
  readonly message: string;
}

/** The located problems of one zod issue; `prefix` is where the validated value sits in `doc`. */
export function issueProblems(
  schema: ZodType,
  issue: core.$ZodIssue,
  data: unknown,
  doc: Document,
  problem: (path: readonly Key[], message: string, offset?: number) => ConfigProblem,
  prefix: readonly Key[] = [],
): ConfigProblem[] {
  const path = issue.path.filter((k): k is Key => typeof k !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(schema, path, data);
    return issue.keys.map((key) =>
      problem([...prefix, ...path, key], `unknown key${didYouMean(key, known)}`, keyOffset(doc, [...prefix, ...path], key)),
    );
  }
  return [problem([...prefix, ...path], issueMessage(issue, valueAt(data, path)), nodeOffset(doc, [...prefix, ...path]))];
}

export function valueAt(data: unknown, path: readonly Key[]): unknown {
  let v = data;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<Key, unknown>)[k];
  }
  return v;
}

/** Offset of the value at `path`, or of the closest enclosing node that exists. */
export function nodeOffset(doc: Document, path: readonly Key[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as Node | undefined;
    if (node && (isScalar(node) || isMap(node) || isSeq(node)) && node.range) {
      // A missing key is reported at the mapping that lacks it.
      return node.range[0];
    }
  }
  return undefined;
}

export function keyOffset(doc: Document, path: readonly Key[], key: string): number | undefined {
  const parent = path.length === 0 ? doc.contents : doc.getIn(path, true);
  if (isMap(parent)) {
    for (const item of parent.items) {
      if (isPair(item) && isScalar(item.key) && String(item.key.value) === key) return item.key.range?.[0];
    }
  }
  return nodeOffset(doc, path);
}

/** The keys the schema accepts for the object at `path`, for "did you mean" hints. */
export function knownKeys(schema: ZodType, path: readonly Key[], data: unknown): string[] {
  let s: core.$ZodType | undefined = schema;
  for (let i = 0; i <= path.length && s !== undefined; i++) {
    s = unwrap(s, valueAt(data, path.slice(0, i)));
    if (i === path.length || s === undefined) break;
    const def = s._zod.def as unknown as Record<string, unknown>;
    const k = path[i]!;
    if (def.type === 'object') s = (def.shape as Record<string, core.$ZodType>)[String(k)];
    else if (def.type === 'array') s = def.element as core.$ZodType;
    else if (def.type === 'tuple') s = (def.items as core.$ZodType[])[Number(k)];
    else s = undefined;
  }
  if (s === undefined) return [];
  const def = s._zod.def as unknown as Record<string, unknown>;
  return def.type === 'object' ? Object.keys(def.shape as object) : [];
}

/** Strips defaults/optionals, and picks the union member matching the data (by discriminator). */
export function unwrap(s: core.$ZodType, value: unknown): core.$ZodType | undefined {
  for (;;) {
    const def = s._zod.def as unknown as Record<string, unknown>;
    if ('innerType' in def) s = def.innerType as core.$ZodType;
    else if (def.type === 'pipe') s = def.in as core.$ZodType;
    else if (def.type === 'union') {
      const options = def.options as core.$ZodType[];
      const disc = def.discriminator as string | undefined;
      const wanted = disc !== undefined && value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[disc] : undefined;
      const match = options.find((o) => {
        const od = o._zod.def as unknown as Record<string, unknown>;
        if (od.type !== 'object' || disc === undefined) return false;
        const lit = (od.shape as Record<string, core.$ZodType>)[disc]?._zod.def as unknown as { values?: unknown[] } | undefined;
        return lit?.values?.includes(wanted) ?? false;
      });
      if (match === undefined) return options.find((o) => (o._zod.def as unknown as { type: string }).type === 'object');
      s = match;
    } else return s;
  }
}
