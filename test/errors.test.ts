/**
 * Every row of docs/errors.md, through the CLI in-process: one line naming the file and the
 * problem, exit code 2, no stack trace, nothing half-written. The rows and the tests are kept in
 * step: a row without a test or a test without a row fails.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { strToU8, zipSync } from 'fflate';
import { encodeIdx } from '../src/data/idx.js';
import { cli } from './helpers/cli.js';
import { keras3Mlp } from './helpers/keras-files.js';
import { encodeOnnx, seeded, tinyMlpSpec, type OnnxModelSpec } from './helpers/onnx-models.js';

let root: string;
let run: string; // a small run directory with a checkpoint, made once
let net: string; // its spiking network artifact

const TINY = `
name: tiny
seed: 3
dataset: {name: mnist, limit: {train: 256, test: 64}, validation: 0.1}
model:
  layers: [{type: flatten}, {type: dense, units: 16}, {type: spiking}]
  output: {neurons_per_class: 2}
training: {epochs: 4, batch_size: 64}
sharpening: {schedule: simple, start_epoch: 0, steps: 2, per: epoch}
`;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'whetstone-errors-'));
  writeFileSync(join(root, 'tiny.yaml'), TINY);
  const r = await cli(['train', join(root, 'tiny.yaml'), '--out', join(root, 'runs')]);
  expect(r.code, r.stderr).toBe(0);
  const runs = readdirSync(join(root, 'runs'));
  run = join(root, 'runs', runs[0]!);
  net = join(run, 'snn', 'network.json');
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

let keras: Uint8Array; // a valid .keras file
let kerasMisShaped: Uint8Array; // one whose first kernel has 12 columns for a Dense of 8 units
beforeAll(async () => {
  keras = await keras3Mlp();
  kerasMisShaped = await keras3Mlp([784, 12]);
});

/** Names, sizes and modification times of every file under dir. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const s = statSync(p);
        out[relative(dir, p)] = `${s.size}:${s.mtimeMs}`;
      }
    }
  };
  walk(dir);
  return out;
}

interface Case {
  /** Builds the input in a fresh directory; returns the argv and the file the message must name. */
  setup: (dir: string) => { argv: string[]; names: string; watch?: string };
  message: RegExp;
  /** What must follow the error line (a hint, the usage line). */
  then?: RegExp;
}

const MODEL = 'model: {layers: [{type: flatten}, {type: dense, units: 8}, {type: spiking}]}\n';
/** Writes exp.yaml; a config without a model gets a small valid one. */
const yaml = (dir: string, text: string) => {
  writeFileSync(join(dir, 'exp.yaml'), /^model:/m.test(text) || text === '' || text.includes('&a0') ? text : text + MODEL);
  return join(dir, 'exp.yaml');
};
const train = (dir: string, config: string, ...more: string[]) => ['train', config, '--out', join(dir, 'out'), ...more];
const images = (n: number) => encodeIdx([n, 28, 28], new Uint8Array(n * 784).fill(7));
const labels = (n: number) => encodeIdx([n], new Uint8Array(n).map((_, i) => i % 10));
/** An idx dataset directory with standard names; `edit` may replace files. */
function idxDataset(dir: string, edit: (d: string) => void = () => {}): string {
  const d = join(dir, 'data');
  mkdirSync(d);
  writeFileSync(join(d, 'train-images-idx3-ubyte'), images(40));
  writeFileSync(join(d, 'train-labels-idx1-ubyte'), labels(40));
  writeFileSync(join(d, 't10k-images-idx3-ubyte'), images(20));
  writeFileSync(join(d, 't10k-labels-idx1-ubyte'), labels(20));
  edit(d);
  return yaml(dir, 'dataset: {name: idx, path: data}\n');
}
function cifarDataset(dir: string, edit: (d: string) => void): string {
  const d = join(dir, 'cifar');
  mkdirSync(d);
  const batch = new Uint8Array(3 * 3073);
  for (const f of ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin']) writeFileSync(join(d, f), batch);
  edit(d);
  return yaml(dir, 'dataset: {name: cifar10, path: cifar}\n');
}
/** A copy of the shared run with its checkpoint model edited. */
function brokenRun(dir: string, edit: (checkpoint: string) => void): string {
  const copy = join(dir, 'run');
  cpSync(run, copy, { recursive: true });
  edit(join(copy, 'checkpoint'));
  return copy;
}
function editJson(file: string, edit: (json: any) => void): void {
  const json = JSON.parse(readFileSync(file, 'utf8'));
  edit(json);
  writeFileSync(file, JSON.stringify(json));
}
/** The checkpoint's model.json (its folder name is the checkpoint format's business). */
function checkpointModel(checkpoint: string): string {
  for (const p of [join(checkpoint, 'model.json'), join(checkpoint, 'model', 'model.json')]) if (existsSync(p)) return p;
  throw new Error(`no model.json in ${checkpoint}: ${readdirSync(checkpoint).join(', ')}`);
}
function brokenNetwork(dir: string, edit: (d: string) => void): string {
  const copy = join(dir, 'snn');
  cpSync(join(run, 'snn'), copy, { recursive: true });
  edit(copy);
  return join(copy, 'network.json');
}

/** `sharpen FILE --data mnist` on `bytes` written to dir/FILE. */
function sharpen(dir: string, file: string, bytes: Uint8Array | string) {
  writeFileSync(join(dir, file), bytes);
  return { argv: ['sharpen', join(dir, file), '--data', 'mnist', '--limit', '100', '--out', join(dir, 'out')], names: file };
}
/** The tiny ONNX MLP with its first weight replaced. */
function onnxWith(edit: (spec: OnnxModelSpec) => OnnxModelSpec): Uint8Array {
  return encodeOnnx(edit(tinyMlpSpec()));
}
const replaceInit = (spec: OnnxModelSpec, name: string, init: OnnxModelSpec['initializers'][number]) => ({ ...spec, initializers: spec.initializers.map((i) => (i.name === name ? init : i)) });
/** Writes base.yaml (a small valid experiment unless given) and sweep.yaml; the argv of `sweep` on it. */
const sweep = (dir: string, text: string, base = `name: b\n${MODEL}`, ...more: string[]) => {
  writeFileSync(join(dir, 'base.yaml'), base);
  writeFileSync(join(dir, 'sweep.yaml'), text);
  return ['sweep', join(dir, 'sweep.yaml'), '--out', join(dir, 'out'), ...more];
};
/** Nothing listens on port 1 of the loopback interface. */
const NO_REDIS = 'redis://127.0.0.1:1';

const CASES: Record<string, Case> = {
  'yaml-empty': {
    setup: (d) => ({ argv: train(d, yaml(d, '')), names: 'exp.yaml' }),
    message: /empty/,
  },
  'yaml-malformed': {
    setup: (d) => ({ argv: train(d, yaml(d, 'name: x\ntraining:\n  epochs: [1, 2\n')), names: 'exp.yaml' }),
    message: /exp\.yaml:\d+:\d+/,
  },
  'yaml-alias-bomb': {
    setup: (d) => {
      let text = 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
      for (let i = 1; i < 12; i++) text += `a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]\n`;
      return { argv: train(d, yaml(d, text)), names: 'exp.yaml' };
    },
    message: /alias/i,
  },
  'yaml-duplicate-key': {
    setup: (d) => ({ argv: train(d, yaml(d, 'name: a\nseed: 1\nname: b\n')), names: 'exp.yaml' }),
    message: /unique|duplicate/i,
  },
  'yaml-wrong-type': {
    setup: (d) => ({ argv: train(d, yaml(d, 'training:\n  epochs: ten\n')), names: 'exp.yaml' }),
    message: /training\.epochs/,
  },
  'yaml-unknown-key': {
    setup: (d) => ({ argv: train(d, yaml(d, 'trainig:\n  epochs: 3\n')), names: 'exp.yaml' }),
    message: /trainig.*did you mean 'training'/,
  },
  'yaml-out-of-range': {
    setup: (d) => ({ argv: train(d, yaml(d, 'dataset:\n  validation: 0.9\n')), names: 'exp.yaml' }),
    message: /dataset\.validation/,
  },
  'config-missing': {
    setup: (d) => ({ argv: train(d, join(d, 'nope.yaml')), names: 'nope.yaml' }),
    message: /no such file/i,
  },
  'config-near-miss': {
    setup: (d) => {
      writeFileSync(join(d, 'quickstart.yaml'), 'name: x\n' + MODEL);
      return { argv: train(d, 'quikstart.yaml'), names: 'quikstart.yaml' };
    },
    message: /no such file/i,
    then: /^hint: did you mean (\S*\/)?quickstart\.yaml\?$/m,
  },
  'train-no-config': {
    setup: () => ({ argv: ['train'], names: 'train' }),
    message: /needs an experiment config/,
    then: /^usage: whetstone train \[options\] \[config\]/m,
  },
  'config-directory': {
    setup: (d) => {
      mkdirSync(join(d, 'conf.yaml'));
      return { argv: train(d, join(d, 'conf.yaml')), names: 'conf.yaml' };
    },
    message: /directory/i,
  },
  'set-bad-path': {
    setup: (d) => ({ argv: train(d, yaml(d, 'name: x\n'), '--set', 'trainig.epochs=3'), names: 'trainig' }),
    message: /trainig/,
  },
  'dataset-missing': {
    setup: (d) => ({ argv: train(d, idxDataset(d, (data) => rmSync(join(data, 'train-images-idx3-ubyte')))), names: 'train-images-idx3-ubyte' }),
    message: /no such file|not found|missing/i,
  },
  'dataset-unreadable': {
    setup: (d) => ({
      argv: train(d, idxDataset(d, (data) => {
        rmSync(join(data, 't10k-labels-idx1-ubyte'));
        mkdirSync(join(data, 't10k-labels-idx1-ubyte'));
      })),
      names: 't10k-labels-idx1-ubyte',
    }),
    message: /directory/i,
  },
  'idx-truncated': {
    setup: (d) => ({
      argv: train(d, idxDataset(d, (data) => truncateSync(join(data, 'train-images-idx3-ubyte'), 16 + 784 * 10 + 5))),
      names: 'train-images-idx3-ubyte',
    }),
    message: /truncated|expected/i,
  },
  'idx-mis-sized': {
    setup: (d) => ({
      argv: train(d, idxDataset(d, (data) => writeFileSync(join(data, 't10k-labels-idx1-ubyte'), labels(19)))),
      names: 't10k-labels-idx1-ubyte',
    }),
    message: /20 images.*19 labels|19 labels.*20 images/,
  },
  'idx-bad-magic': {
    setup: (d) => ({
      argv: train(d, idxDataset(d, (data) => writeFileSync(join(data, 'train-labels-idx1-ubyte'), 'hello, this is not IDX'))),
      names: 'train-labels-idx1-ubyte',
    }),
    message: /magic|IDX/i,
  },
  'cifar-truncated': {
    setup: (d) => ({
      argv: train(d, cifarDataset(d, (c) => truncateSync(join(c, 'data_batch_1.bin'), 3073 * 2 + 100))),
      names: 'data_batch_1.bin',
    }),
    message: /3073|3,073/,
  },
  'cifar-missing': {
    setup: (d) => ({ argv: train(d, cifarDataset(d, (c) => rmSync(join(c, 'test_batch.bin')))), names: 'test_batch.bin' }),
    message: /no such file|not found|missing/i,
  },
  'model-weight-shapes': {
    setup: (d) => {
      const r = brokenRun(d, (c) =>
        editJson(checkpointModel(c), (m) => {
          const spec = m.weightsManifest[0].weights[0];
          spec.shape = [spec.shape[0] + 1, ...spec.shape.slice(1)];
        }),
      );
      return { argv: ['train', '--resume', r], names: 'model.json', watch: r };
    },
    message: /shape|weights|bytes/i,
  },
  'model-unknown-layer': {
    setup: (d) => {
      const r = brokenRun(d, (c) =>
        editJson(checkpointModel(c), (m) => {
          const topology = m.modelTopology.model_config ?? m.modelTopology;
          topology.config.layers[1].class_name = 'FancyLayer';
        }),
      );
      return { argv: ['train', '--resume', r], names: 'model.json', watch: r };
    },
    message: /unknown layer type .FancyLayer./,
  },
  'model-weights-truncated': {
    setup: (d) => {
      const r = brokenRun(d, (c) => {
        const bin = join(checkpointModel(c), '..', 'weights.bin');
        truncateSync(bin, statSync(bin).size - 8);
      });
      return { argv: ['train', '--resume', r], names: 'weights.bin', watch: r };
    },
    message: /truncated|bytes|short/i,
  },
  'model-shard-escape': {
    setup: (d) => {
      const r = brokenRun(d, (c) =>
        editJson(checkpointModel(c), (m) => {
          m.weightsManifest[0].paths = ['../../../config.yaml'];
        }),
      );
      return { argv: ['train', '--resume', r], names: 'model.json', watch: r };
    },
    message: /outside the model's directory/,
  },
  'resume-not-a-run': {
    setup: (d) => {
      mkdirSync(join(d, 'notarun'));
      return { argv: ['train', '--resume', join(d, 'notarun')], names: 'notarun', watch: join(d, 'notarun') };
    },
    message: /not a run directory/,
  },
  'from-config-differs': {
    setup: (d) => ({ argv: [...train(d, join(root, 'tiny.yaml'), '--from', run, '--epochs', '8', '--set', 'seed=9')], names: basename(run), watch: run }),
    message: /seed differs from the run's/,
  },
  'network-corrupted': {
    setup: (d) => ({ argv: ['evaluate', brokenNetwork(d, (s) => writeFileSync(join(s, 'network.json'), '{"format": "whetstone-snn", "lay'))], names: 'network.json' }),
    message: /JSON/,
  },
  'network-weights-truncated': {
    setup: (d) => ({
      argv: ['evaluate', brokenNetwork(d, (s) => truncateSync(join(s, 'weights.bin'), statSync(join(s, 'weights.bin')).size - 4))],
      names: 'weights.bin',
    }),
    message: /bytes|truncated|short/i,
  },
  'network-weights-escape': {
    setup: (d) => ({
      argv: ['evaluate', brokenNetwork(d, (s) => editJson(join(s, 'network.json'), (n) => (n.weights.file = '../../tiny.yaml')))],
      names: 'network.json',
    }),
    message: /weights|outside|directory/i,
  },
  'onnx-not-onnx': {
    setup: (d) => sharpen(d, 'model.onnx', 'PK this is a text file, not a protobuf'),
    message: /not an ONNX model/,
  },
  'onnx-truncated': {
    setup: (d) => {
      const bytes = encodeOnnx(tinyMlpSpec());
      return sharpen(d, 'model.onnx', bytes.subarray(0, Math.floor(bytes.length / 2)));
    },
    message: /not an ONNX model, or a truncated one/,
  },
  'onnx-external-missing': {
    setup: (d) => sharpen(d, 'model.onnx', onnxWith((s) => replaceInit(s, 'fc1.weight', { name: 'fc1.weight', dims: [8, 784], external: { location: 'model.onnx.data', offset: 0, length: 8 * 784 * 4 } }))),
    message: /initializer 'fc1\.weight' is stored in 'model\.onnx\.data' beside the model, which cannot be read \(no such file\)/,
  },
  'onnx-weight-shapes': {
    setup: (d) => sharpen(d, 'model.onnx', onnxWith((s) => replaceInit(s, 'fc1.weight', { name: 'fc1.weight', dims: [8, 700], values: seeded(5600, 1) }))),
    message: /node '\/fc1\/Gemm' \(Gemm\): its weight has shape \[700, 8\] but the graph needs 784 inputs .*weights do not match the graph/,
  },
  'sharpen-input-shape': {
    setup: (d) =>
      sharpen(d, 'model.onnx', onnxWith((s) => replaceInit({ ...s, input: { name: 'image', dims: ['batch', 3, 32, 32] } }, 'fc1.weight', { name: 'fc1.weight', dims: [8, 3072], values: seeded(8 * 3072, 1) }))),
    message: /cannot sharpen this model: Flatten \(Flatten\): input shape 32×32×3 does not match the dataset mnist/,
  },
  'keras-not-keras': {
    setup: (d) => sharpen(d, 'model.keras', zipSync({ 'README.txt': strToU8('a zip of something else') })),
    message: /a zip, but not a Keras 3 \.keras file \(no config\.json or model\.weights\.h5 in it\)/,
  },
  'keras-truncated': {
    setup: (d) => sharpen(d, 'model.keras', keras.subarray(0, keras.length - 30)),
    message: /not a Keras 3 \.keras file \(not a readable zip/,
  },
  'keras-weight-shapes': {
    setup: (d) => sharpen(d, 'model.keras', kerasMisShaped),
    message: /layers\/dense\/vars\/0 has shape \[784, 12\], which does not fit layer hidden \(Dense\)/,
  },
  'keras-h5-not-hdf5': {
    setup: (d) => sharpen(d, 'model.h5', 'model_config = {}'),
    message: /not an HDF5 file/,
  },
  'out-is-file': {
    setup: (d) => {
      writeFileSync(join(d, 'out'), 'a file');
      return { argv: ['train', yaml(d, 'name: x\n'), '--out', join(d, 'out'), '--limit', '100'], names: 'out' };
    },
    message: /not a directory|exists/i,
  },
  'out-unwritable': {
    setup: (d) => {
      // As root, permissions do not stop a write: use a read-only file system then.
      const rootUser = process.getuid?.() === 0;
      let out = '/sys/whetstone-test-out';
      if (!rootUser) {
        mkdirSync(join(d, 'ro'), { mode: 0o555 });
        out = join(d, 'ro', 'out');
      }
      return { argv: ['train', yaml(d, 'name: x\n'), '--out', out, '--limit', '100'], names: out };
    },
    message: /read-only|permission|not permitted|cannot/i,
  },
  'sweep-unknown-key': {
    setup: (d) => ({ argv: sweep(d, 'base: base.yaml\ngrid:\n  training.optimizer.learnin_rate: [1, 2]\n'), names: 'sweep.yaml:3:3' }),
    message: /training\.optimizer\.learnin_rate: is not a key of the experiment schema.*did you mean 'learning_rate'/,
  },
  'sweep-empty-range': {
    setup: (d) => ({ argv: sweep(d, 'base: base.yaml\ngrid:\n  training.epochs: {range: [5, 2], step: 1}\n'), names: 'sweep.yaml:3:20' }),
    message: /range \[5, 2\] is empty/,
  },
  'sweep-base-invalid': {
    setup: (d) => ({ argv: sweep(d, 'base: base.yaml\nseeds: [1, 2]\n', 'training:\n  epochs: ten\n' + MODEL), names: 'base.yaml:2:' }),
    message: /training\.epochs/,
  },
  'sweep-run-invalid': {
    setup: (d) => ({ argv: sweep(d, 'base: base.yaml\ngrid:\n  dataset.validation: [0.1, 0.9]\n'), names: 'sweep.yaml:3:' }),
    message: /dataset\.validation=0\.9: /,
  },
  'sweep-metric-unknown': {
    setup: (d) => ({ argv: sweep(d, 'base: base.yaml\nseeds: [1]\nmetric: spiking_acc\n'), names: 'sweep.yaml:3:9' }),
    message: /not a key of summary\.json \(did you mean 'spiking_accuracy'\?\)/,
  },
  'queue-unreachable': {
    setup: (d) => ({ argv: sweep(d, 'base: base.yaml\nseeds: [1]\n', undefined, '--queue', NO_REDIS), names: NO_REDIS }),
    message: /cannot reach Redis/,
  },
  'queue-bad-url': {
    setup: (d) => ({ argv: sweep(d, 'base: base.yaml\nseeds: [1]\n', undefined, '--queue', 'http://localhost:6379'), names: 'http://localhost:6379' }),
    message: /not a Redis URL/,
  },
  'run-dir-exists': {
    setup: (d) => {
      mkdirSync(join(d, 'taken'));
      writeFileSync(join(d, 'taken', 'notes.txt'), 'mine');
      return { argv: train(d, yaml(d, 'name: x\n'), '--run-dir', join(d, 'taken')), names: join(d, 'taken'), watch: join(d, 'taken') };
    },
    message: /the run directory already exists/,
  },
  'sweep-only-unknown': {
    setup: (d) => ({ argv: sweep(d, 'base: base.yaml\nseeds: [1]\n', undefined, '--only', 'nope-123'), names: 'sweep.yaml' }),
    message: /--only nope-123: .* has no such run/,
  },
  'collect-not-a-run': {
    setup: (d) => {
      mkdirSync(join(d, 'stray'));
      writeFileSync(join(d, 'stray', 'config.yaml'), 'x: 1\n');
      return { argv: ['sweep', 'collect', sweep(d, 'base: base.yaml\nseeds: [1]\n')[1]!, join(d, 'stray'), '--out', join(d, 'out')], names: 'stray' };
    },
    message: /not a run of sweep/,
  },
  'worker-unreachable': {
    setup: (d) => ({ argv: ['worker', NO_REDIS, '--out', join(d, 'out')], names: NO_REDIS }),
    message: /cannot reach Redis/,
  },
};

function documentedIds(): string[] {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  return [...doc.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]!);
}

describe('docs/errors.md', () => {
  it('has a test for every row and a row for every test', () => {
    expect(documentedIds().sort()).toEqual(Object.keys(CASES).sort());
  });
});

describe('hostile inputs: one line naming the file, exit 2, no stack trace, nothing half-written', () => {
  for (const [id, c] of Object.entries(CASES)) {
    it(id, async () => {
      const dir = mkdtempSync(join(root, `${id}-`));
      const { argv, names, watch } = c.setup(dir);
      const before = watch ? snapshot(watch) : undefined;
      const r = await cli(argv, {}, dir);
      expect(r.code, r.stderr).toBe(2);
      const lines = r.stderr.split('\n').filter((l) => /^error /.test(l));
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toContain(names);
      expect(lines[0]).toMatch(c.message);
      if (c.then) expect(r.stderr.slice(r.stderr.indexOf(lines[0]!) + lines[0]!.length)).toMatch(c.then);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(r.stderr).not.toMatch(/unexpected failure|bug in whetstone/);
      expect(r.stdout).toBe('');
      // Nothing written: no run directory for a run that could not start, no file of a run changed.
      const out = join(dir, 'out');
      expect(existsSync(out) && statSync(out).isDirectory() ? readdirSync(out) : []).toEqual([]);
      if (watch) expect(snapshot(watch)).toEqual(before);
    });
  }
});
