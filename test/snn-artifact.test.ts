/**
 * The artifact on disk: network.json + weights.bin round-trip exactly; every kind of damage is one
 * InputError line naming the file; and loading + simulating never loads tfjs (checked both on the
 * import graph and in a child process). No tfjs in this file.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import { loadArtifact, writeArtifact } from '../src/snn/io.js';
import { sizeOf, type SpikingNetwork } from '../src/snn/network.js';
import { SpikingSimulator } from '../src/snn/simulator.js';
import { randomImages, smallCnn } from './helpers/snn-networks.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
let dir: string;
let network: SpikingNetwork;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'whetstone-snn-'));
  network = smallCnn(17);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function freshCopy(name: string): string {
  const d = join(dir, name);
  writeArtifact(d, network);
  return d;
}

function loadError(path: string): string {
  try {
    loadArtifact(path);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    const message = (e as Error).message;
    expect(message.split('\n')).toHaveLength(1);
    return message;
  }
  throw new Error(`${path} loaded without error`);
}

describe('writeArtifact / loadArtifact', () => {
  it('round-trips every field and every weight bit for bit, and the loaded network decides identically', () => {
    const d = freshCopy('roundtrip');
    const json = JSON.parse(readFileSync(join(d, 'network.json'), 'utf8'));
    expect(json.format).toBe('whetstone-snn');
    expect(json.version).toBe(1);
    expect(json.weights).toMatchObject({ file: 'weights.bin', dtype: 'float32', byte_order: 'little' });
    expect(json.timing).toEqual({ steps: 4, delay_per_layer: 1 });
    expect(json.layers.map((l: { type: string; step?: number }) => `${l.type}${l.step ?? ''}`)).toEqual(['conv2d1', 'or_pool2d2', 'conv2d3', 'flatten', 'dense4']);
    expect(json.layers[0].weights.layout).toBe('hwio');
    expect(readFileSync(join(d, 'weights.bin')).byteLength).toBe(json.weights.bytes);

    const loaded = loadArtifact(d); // a directory holding network.json
    expect(loaded).toEqual(network);
    const pixels = sizeOf(network.input.shape);
    const images = randomImages(4, 100, pixels);
    const a = new SpikingSimulator(network);
    const b = new SpikingSimulator(loaded);
    for (let i = 0; i < 100; i++) expect(b.classify(images, i * pixels)).toBe(a.classify(images, i * pixels));
  });

  it('stores weights little-endian float32 at the offsets network.json names', () => {
    const d = freshCopy('layout');
    const json = JSON.parse(readFileSync(join(d, 'network.json'), 'utf8'));
    const bin = readFileSync(join(d, 'weights.bin'));
    const dense = json.layers[4];
    const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
    const layer = network.layers[4]!;
    if (layer.type !== 'dense') throw new Error('expected dense');
    expect(view.getFloat32(dense.weights.offset + 4 * 7, true)).toBe(layer.weights[7]);
    expect(view.getFloat32(dense.bias.offset, true)).toBe(layer.bias[0]);
  });

  it('finds the artifact from a run directory (run/snn/network.json)', () => {
    const run = join(dir, 'run');
    writeArtifact(join(run, 'snn'), network);
    expect(loadArtifact(run)).toEqual(network);
  });
});

describe('a damaged artifact is one InputError line naming the file', () => {
  it('missing path', () => {
    expect(loadError(join(dir, 'nope'))).toMatch(/nope: no such file or directory/);
  });

  it('a directory without a network', () => {
    expect(loadError(dir)).toMatch(/holds no spiking network/);
  });

  it('network.json that is not JSON', () => {
    const d = freshCopy('badjson');
    writeFileSync(join(d, 'network.json'), '{"format": "whetstone-snn", "vers');
    expect(loadError(d)).toMatch(/network\.json: not valid JSON/);
  });

  it('network.json truncated to nothing', () => {
    const d = freshCopy('empty');
    writeFileSync(join(d, 'network.json'), '');
    expect(loadError(d)).toMatch(/network\.json: not valid JSON/);
  });

  it('weights.bin truncated', () => {
    const d = freshCopy('truncated');
    truncateSync(join(d, 'weights.bin'), 100);
    expect(loadError(d)).toMatch(/weights\.bin: is 100 bytes but network\.json describes \d+ \(truncated or mismatched file\)/);
  });

  it('weights.bin missing', () => {
    const d = freshCopy('noweights');
    rmSync(join(d, 'weights.bin'));
    expect(loadError(d)).toMatch(/weights\.bin: cannot read weights \(no such file\)/);
  });

  it('a layer shape that does not follow from the one before', () => {
    const d = freshCopy('shape');
    const file = join(d, 'network.json');
    const json = JSON.parse(readFileSync(file, 'utf8'));
    json.layers[4].input_size += 1;
    json.layers[4].weights.shape[0] += 1;
    json.weights.bytes += 4 * json.layers[4].units;
    writeFileSync(file, JSON.stringify(json));
    writeFileSync(join(d, 'weights.bin'), Buffer.concat([readFileSync(join(d, 'weights.bin')), Buffer.alloc(4 * json.layers[4].units)]));
    expect(loadError(d)).toMatch(/layers\[4\] \(d\): expects input \[\d+\] but the previous layer gives \[\d+\]/);
  });

  it('an offset beyond the end of weights.bin', () => {
    const d = freshCopy('offset');
    const file = join(d, 'network.json');
    const json = JSON.parse(readFileSync(file, 'utf8'));
    json.layers[0].bias.offset = json.weights.bytes - 4;
    writeFileSync(file, JSON.stringify(json));
    expect(loadError(d)).toMatch(/layers\.0\.bias: bytes \d+…\d+ lie beyond the end of weights\.bin/);
  });

  it('a wrong tensor shape, an unknown layer type, a missing field, a newer version', () => {
    const edits: [(j: any) => void, RegExp][] = [
      [(j) => (j.layers[0].weights.shape = [1, 2, 3]), /layers\.0\.weights\.shape: is \[1, 2, 3\], the layer needs \[3, 2, 2, 5\]/],
      [(j) => (j.layers[1].type = 'softmax'), /layers\.1\.type/],
      [(j) => delete j.input, /input/],
      [(j) => (j.version = 2), /format version 2 is not supported/],
      [(j) => (j.layers[1].step = 7), /layers\.1\.step: is 7, expected 2/],
      [(j) => (j.output.key[0] = [1, 0]), /output\.key\[0\]: must have 12 entries/],
      [(j) => (j.weights.file = '../../etc/passwd'), /weights\.file must be a file name next to network\.json/],
    ];
    edits.forEach(([edit, pattern], i) => {
      const d = freshCopy(`edit${i}`);
      const file = join(d, 'network.json');
      const json = JSON.parse(readFileSync(file, 'utf8'));
      edit(json);
      writeFileSync(file, JSON.stringify(json));
      expect(loadError(d)).toMatch(pattern);
    });
  });

  it('a NaN written into weights.bin', () => {
    const d = freshCopy('nan');
    const bin = readFileSync(join(d, 'weights.bin'));
    bin.writeFloatLE(Number.NaN, 8);
    writeFileSync(join(d, 'weights.bin'), bin);
    expect(loadError(d)).toMatch(/weights\.bin: layers\.0\.weights value 2 is NaN/);
  });
});

// ───────────────────────── no tfjs ─────────────────────────

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g;

/** Files reachable through static imports (import … from, export … from, bare import) from `entry`. */
function staticGraph(entry: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const visit = (file: string) => {
    if (graph.has(file)) return;
    const text = readFileSync(file, 'utf8');
    const specifiers = [...text.matchAll(IMPORT)].map((m) => (m[1] ?? m[2])!);
    graph.set(file, specifiers);
    for (const s of specifiers) if (s.startsWith('.')) visit(resolve(dirname(file), s).replace(/\.js$/, '.ts'));
  };
  visit(entry);
  return graph;
}

describe('loading and simulating an artifact needs no tfjs', () => {
  it('no module statically reachable from src/snn/index.ts imports tfjs or the backend', () => {
    const graph = staticGraph(join(root, 'src/snn/index.ts'));
    expect(graph.size).toBeGreaterThan(8);
    const offenders = [...graph].filter(([file, specs]) => specs.some((s) => s.startsWith('@tensorflow') || /backend\/(tf|index)\.js$|model\/tf\.js$/.test(s)) || /from-tfjs\.ts$/.test(file));
    expect(offenders.map(([f]) => f)).toEqual([]);
    // The detector works: the conversion module does reach tfjs.
    const convert = staticGraph(join(root, 'src/snn/from-tfjs.ts'));
    expect([...convert.values()].flat().some((s) => s.startsWith('@tensorflow'))).toBe(true);
  });

  it('a fresh process that loads and simulates an artifact has loaded no @tensorflow module', () => {
    const d = freshCopy('child');
    const script = join(dir, 'child.mts');
    const probe = (imports: string) => `
      import { createRequire } from 'node:module';
      ${imports}
      import { loadArtifact, SpikingSimulator } from ${JSON.stringify(join(root, 'src/snn/index.ts'))};
      const net = loadArtifact(${JSON.stringify(d)});
      const sim = new SpikingSimulator(net);
      const cls = sim.classify(new Uint8Array(${sizeOf(network.input.shape)}).fill(200));
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('@tensorflow'));
      console.log(JSON.stringify({ cls, loaded, engine: typeof globalThis._tfengine }));
    `;
    const run = (imports: string) => {
      writeFileSync(script, probe(imports));
      const r = spawnSync(process.execPath, [join(root, 'node_modules/vite-node/vite-node.mjs'), script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { cls: number; loaded: string[]; engine: string };
    };
    const clean = run('');
    expect(clean.cls).toBeGreaterThanOrEqual(0);
    expect(clean.loaded).toEqual([]);
    expect(clean.engine).toBe('undefined');
    // Positive control: importing the conversion module is detected.
    const withTf = run(`import ${JSON.stringify(join(root, 'src/snn/from-tfjs.ts'))};`);
    expect(withTf.engine).toBe('object');
  }, 120_000);
});
