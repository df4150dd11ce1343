/**
 * Property-based tests (fast-check): whatever bytes or text the readers are given, they either
 * return a value or throw the documented InputError — a one-line message naming the file — and
 * never anything else (RangeError, TypeError, an out-of-memory allocation from a lying header…).
 * A network that loads must also simulate.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseExperiment } from '../src/config/loader.js';
import { parseCifarBatch } from '../src/data/cifar.js';
import { encodeIdx, parseIdx } from '../src/data/idx.js';
import { InputError } from '../src/errors.js';
import { importedSource } from '../src/model/convert/import.js';
import { keras3Artifacts } from '../src/model/convert/keras/keras3.js';
import { kerasH5Artifacts } from '../src/model/convert/keras/legacy.js';
import { onnxArtifacts } from '../src/model/convert/onnx/index.js';
import { SourceFormatError } from '../src/model/convert/source.js';
import { deserializeNetwork, serializeNetwork } from '../src/snn/io.js';
import { SpikingSimulator } from '../src/snn/simulator.js';
import { keras3Mlp, kerasH5Mlp } from './helpers/keras-files.js';
import { encodeOnnx, tinyCnnSpec, tinyMlpSpec } from './helpers/onnx-models.js';
import { smallCnn } from './helpers/snn-networks.js';

const RUNS = { numRuns: 300, seed: 20261128 };

/** Runs f; passes if it returns or throws a one-line InputError naming `file`. */
function loadsOrInputError<T>(f: () => T, file: string): T | undefined {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    expect(e.message.split('\n')).toHaveLength(1);
    expect(e.message).toContain(file);
    return undefined;
  }
}

/** Bytes that start like a real IDX file (right magic, plausible dims) with arbitrary tails. */
const idxLike = fc
  .record({
    type: fc.constantFrom(0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e, 0x07),
    dims: fc.array(fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constant(0xffffffff), fc.integer({ min: 0, max: 2 ** 32 - 1 })), { minLength: 0, maxLength: 5 }),
    body: fc.uint8Array({ maxLength: 2000 }),
  })
  .map(({ type, dims, body }) => {
    const header = new Uint8Array(4 + 4 * dims.length);
    const view = new DataView(header.buffer);
    view.setUint32(0, (type << 8) | dims.length);
    dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
    const bytes = new Uint8Array(header.length + body.length);
    bytes.set(header);
    bytes.set(body, header.length);
    return bytes;
  });

describe('IDX reader', () => {
  it('arbitrary bytes: a value or an InputError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 4000 }), (bytes) => void loadsOrInputError(() => parseIdx(bytes, 'x.idx'), 'x.idx')), RUNS);
  });

  it('IDX-shaped bytes: what loads has exactly the bytes its header promises', () => {
    fc.assert(
      fc.property(idxLike, (bytes) => {
        const idx = loadsOrInputError(() => parseIdx(bytes, 'y.idx'), 'y.idx');
        if (idx) expect(idx.data.length).toBe(idx.dims.reduce((a, b) => a * b, 1));
      }),
      RUNS,
    );
  });

  it('a valid file with one byte flipped or cut: a value or an InputError', () => {
    const valid = encodeIdx([3, 4, 5], new Uint8Array(60).map((_, i) => i));
    fc.assert(
      fc.property(fc.nat(valid.length - 1), fc.nat(255), fc.nat(valid.length), (at, value, keep) => {
        const bytes = valid.slice(0, keep);
        if (at < bytes.length) bytes[at] = value;
        loadsOrInputError(() => parseIdx(bytes, 'z.idx'), 'z.idx');
      }),
      RUNS,
    );
  });
});

describe('CIFAR-10 reader', () => {
  it('arbitrary bytes (sizes near multiples of a record): a value or an InputError', () => {
    const sizes = fc.oneof(fc.nat(200), fc.integer({ min: 1, max: 3 }).chain((k) => fc.integer({ min: k * 3073 - 2, max: k * 3073 + 2 })));
    fc.assert(
      fc.property(sizes.chain((n) => fc.uint8Array({ minLength: n, maxLength: n })), (bytes) => {
        const split = loadsOrInputError(() => parseCifarBatch(bytes, 'b.bin'), 'b.bin');
        if (split) {
          expect(split.count * 3073).toBe(bytes.length);
          for (const l of split.labels) expect(l).toBeLessThan(10);
        }
      }),
      { ...RUNS, numRuns: 100 },
    );
  });
});

describe('config loader', () => {
  const valid = readFileSync(new URL('../configs/ci-smoke.yaml', import.meta.url), 'utf8');
  /** Never throws: every problem comes back as a located message. */
  function check(text: string): void {
    const result = parseExperiment(text, 'exp.yaml', '/tmp');
    expect(result.config === undefined).toBe(result.errors.length > 0);
    for (const p of result.errors) {
      expect(p.file).toBe('exp.yaml');
      expect(typeof p.message).toBe('string');
    }
  }

  it('arbitrary text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 400 }), check), RUNS);
  });

  it('arbitrary YAML documents of any shape', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => check(stringify(value))), RUNS);
  });

  it('a real config with any one value replaced by anything', () => {
    const lines = valid.split('\n');
    const values = lines.map((l, i) => [l, i] as const).filter(([l]) => /:\s*\S/.test(l) && !l.trimStart().startsWith('#'));
    fc.assert(
      fc.property(fc.constantFrom(...values), fc.oneof(fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)), fc.string({ maxLength: 20 })), ([line, i], replacement) => {
        const copy = [...lines];
        copy[i] = line.replace(/:\s*.*$/, `: ${replacement}`);
        check(copy.join('\n'));
      }),
      RUNS,
    );
  });

  it('a real config with random characters inserted or deleted', () => {
    fc.assert(
      fc.property(fc.nat(valid.length), fc.nat(8), fc.string({ maxLength: 6 }), (at, cut, insert) => check(valid.slice(0, at) + insert + valid.slice(at + cut))),
      RUNS,
    );
  });
});

describe('spiking network artifact loader', () => {
  const { json, weights } = serializeNetwork(smallCnn(5));
  const text = JSON.stringify(json);

  /** Loads; a network that loads must build a simulator and classify an image. */
  function check(t: string, w: Uint8Array): void {
    const network = loadsOrInputError(() => deserializeNetwork(t, w, 'net.json', 'w.bin'), 'net');
    if (network) {
      const sim = new SpikingSimulator(network);
      const pixels = network.input.shape.reduce((a, b) => a * b, 1);
      const cls = sim.classify(new Uint8Array(pixels).fill(200));
      expect(cls).toBeGreaterThanOrEqual(0);
      expect(cls).toBeLessThan(network.output.key.length);
    }
  }

  it('arbitrary JSON with the real weights', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => check(JSON.stringify(value), weights)), { ...RUNS, numRuns: 200 });
  });

  it('the real network.json with any one field replaced by anything', () => {
    // Every path to a value in the JSON, then replace one of them.
    const paths: (string | number)[][] = [];
    const walk = (v: unknown, path: (string | number)[]) => {
      paths.push(path);
      if (Array.isArray(v)) v.slice(0, 12).forEach((x, i) => walk(x, [...path, i]));
      else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
    };
    walk(json, []);
    fc.assert(
      fc.property(fc.constantFrom(...paths.filter((p) => p.length > 0)), fc.jsonValue({ maxDepth: 2 }), (path, value) => {
        const copy = JSON.parse(text);
        let at = copy;
        for (const k of path.slice(0, -1)) at = at[k];
        at[path.at(-1)!] = value;
        check(JSON.stringify(copy), weights);
      }),
      { ...RUNS, numRuns: 500 },
    );
  });

  it('the real network.json with weights of any length', () => {
    fc.assert(
      fc.property(fc.nat(weights.length + 16), (n) => {
        const w = new Uint8Array(n);
        w.set(weights.subarray(0, Math.min(n, weights.length)));
        check(text, w);
      }),
      { ...RUNS, numRuns: 100 },
    );
  });
});

/** A byte array with one byte replaced and cut to `keep` bytes. */
const mutated = (valid: Uint8Array) =>
  fc.tuple(fc.nat(valid.length - 1), fc.nat(255), fc.nat(valid.length)).map(([at, value, keep]) => {
    const bytes = valid.slice(0, keep);
    if (at < bytes.length) bytes[at] = value;
    return bytes;
  });

describe('ONNX reader', () => {
  /** Decodes and translates the graph; the layer chain it yields always reads as a layers model. */
  const read = (bytes: Uint8Array) => {
    const imported = onnxArtifacts(bytes, '/nonexistent/dir/m.onnx', 'm.onnx');
    importedSource(imported);
    return imported;
  };

  it('arbitrary bytes: a value or an InputError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 4000 }), (bytes) => void loadsOrInputError(() => read(bytes), 'm.onnx')), RUNS);
  });

  it('a valid MLP or CNN with one byte flipped or cut: a value or an InputError', () => {
    for (const valid of [encodeOnnx(tinyMlpSpec(2)), encodeOnnx(tinyCnnSpec())]) {
      expect(read(valid).problems).toEqual([]);
      fc.assert(fc.property(mutated(valid), (bytes) => void loadsOrInputError(() => read(bytes), 'm.onnx')), RUNS);
    }
  });
});

describe('Keras readers (.keras zip, legacy .h5)', () => {
  /** Reads, then describes the layers as sharpen does (a config that is no layers model is an InputError there). */
  async function readAsync(read: () => Promise<unknown>, file: string): Promise<void> {
    try {
      const imported = (await read()) as Parameters<typeof importedSource>[0];
      try {
        importedSource(imported);
      } catch (e) {
        if (!(e instanceof SourceFormatError)) throw e;
      }
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      expect(e.message.split('\n')).toHaveLength(1);
      expect(e.message).toContain(file);
    }
  }
  const ASYNC_RUNS = { ...RUNS, numRuns: 80 };

  it('arbitrary bytes: a value or an InputError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), async (bytes) => {
        await readAsync(() => keras3Artifacts(bytes, 'x.keras'), 'x.keras');
        await readAsync(() => kerasH5Artifacts(bytes, 'x.h5'), 'x.h5');
      }),
      ASYNC_RUNS,
    );
  });

  it('a valid .keras with one byte flipped or cut: a value or an InputError', async () => {
    const valid = await keras3Mlp();
    expect((await keras3Artifacts(valid, 'y.keras')).artifacts.weightSpecs).toHaveLength(4);
    await fc.assert(fc.asyncProperty(mutated(valid), (bytes) => readAsync(() => keras3Artifacts(bytes, 'y.keras'), 'y.keras')), ASYNC_RUNS);
  });

  it('a valid legacy .h5 with one byte flipped or cut: a value or an InputError', async () => {
    const valid = await kerasH5Mlp();
    expect((await kerasH5Artifacts(valid, 'z.h5')).artifacts.weightSpecs).toHaveLength(4);
    await fc.assert(fc.asyncProperty(mutated(valid), (bytes) => readAsync(() => kerasH5Artifacts(bytes, 'z.h5'), 'z.h5')), ASYNC_RUNS);
  });
});
