/**
 * The layout's promises, checked on the import graph of src/ (type-only imports included: a cycle of
 * types is still two files that cannot be understood apart):
 * - no import cycles;
 * - snn/ and export/ never reach tfjs through static imports (a spiking artifact is loadable,
 *   simulable and exportable without a deep-learning framework); the one adapter from a tfjs model,
 *   snn/from-tfjs.ts, is loaded with import() only when a tfjs model has to be converted;
 * - cli/ is the top: nothing in the library imports it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** The module specifiers a file imports or re-exports statically (`dynamic`: those it loads with import()). */
function specifiers(source: string, dynamic = false): string[] {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, ''); // comments quote imports too
  const patterns = dynamic ? [/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g] : [/\bfrom\s+['"]([^'"]+)['"]/g, /^\s*import\s+['"]([^'"]+)['"]/gm];
  return patterns.flatMap((pattern) => [...text.matchAll(pattern)].map((m) => m[1]!));
}

interface Graph {
  /** file (relative to src/, e.g. "snn/io.ts") → the files of src/ it imports statically. */
  local: Map<string, string[]>;
  /** file → the files of src/ it imports, statically or with import(). */
  all: Map<string, string[]>;
  /** file → the packages it imports (bare specifiers, node: excluded). */
  packages: Map<string, string[]>;
}

function importGraph(): Graph {
  const local = new Map<string, string[]>();
  const all = new Map<string, string[]>();
  const packages = new Map<string, string[]>();
  for (const file of sourceFiles(src)) {
    const key = relative(src, file);
    const text = readFileSync(file, 'utf8');
    const toFile = (spec: string) => relative(src, resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
    const statics = specifiers(text);
    local.set(key, statics.filter((s) => s.startsWith('.')).map(toFile));
    all.set(key, [...statics, ...specifiers(text, true)].filter((s) => s.startsWith('.')).map(toFile));
    packages.set(key, statics.filter((s) => !s.startsWith('.') && !s.startsWith('node:')));
  }
  return { local, all, packages };
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
export function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    indices.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!indices.has(v)) visit(v);
  return found;
}

/** Every file reachable from `start` (itself included). */
function reachable(graph: Map<string, string[]>, start: string): Set<string> {
  const seen = new Set<string>([start]);
  const todo = [start];
  while (todo.length > 0) for (const w of graph.get(todo.pop()!) ?? []) if (!seen.has(w)) (seen.add(w), todo.push(w));
  return seen;
}

describe('the import graph of src/', () => {
  const graph = importGraph();

  it('finds the files and their imports (the check itself works)', () => {
    expect(graph.local.size).toBeGreaterThan(50);
    expect(graph.local.get('snn/simulator.ts')!.length).toBeGreaterThan(0);
    expect(cycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]))).toEqual([['a', 'b', 'c']]);
    expect(cycles(new Map([['a', ['b']], ['b', []]]))).toEqual([]);
  });

  it('has no import cycles, static or through import()', () => {
    expect(cycles(graph.all)).toEqual([]);
  });

  it('keeps snn/ and export/ free of tfjs, train/, sharpen/ and cli/ (static imports)', () => {
    const offences: string[] = [];
    for (const file of graph.local.keys()) {
      if (!/^(snn|export)\//.test(file) || file === 'snn/from-tfjs.ts') continue;
      for (const dep of reachable(graph.local, file)) {
        if (/^(train|sharpen|cli|backend)\//.test(dep)) offences.push(`${file} reaches ${dep}`);
        for (const pkg of graph.packages.get(dep) ?? []) if (pkg.startsWith('@tensorflow/')) offences.push(`${file} reaches ${pkg} through ${dep}`);
      }
    }
    expect(offences).toEqual([]);
  });

  it('imports cli/ from nowhere but cli/ (commands only parse and call the library)', () => {
    const offences = [...graph.local].flatMap(([file, deps]) => (file.startsWith('cli/') ? [] : deps.filter((d) => d.startsWith('cli/')).map((d) => `${file} imports ${d}`)));
    expect(offences).toEqual([]);
  });
});
