/**
 * `whetstone evaluate` end to end, in-process through runMain, on a run directory holding a
 * hand-built spiking network (config.yaml + snn/): the report, --json, --limit, --weight-bits,
 * --data; and every bad input as exit 2 with one error line and no stack trace.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../src/data/index.js';
import { evaluateSpikingNetwork } from '../src/snn/evaluate.js';
import { writeArtifact } from '../src/snn/io.js';
import type { SpikingNetwork } from '../src/snn/network.js';
import { SeededRandom } from '../src/util/random.js';
import { cli } from './helpers/cli.js';
import { dense, nHotKey, smallCnn } from './helpers/snn-networks.js';

let dir: string;
let runDir: string;
let network: SpikingNetwork;

/** 784 → 40 → 20 (10 classes × 2 neurons): random, but it spikes and spreads its votes. */
function mnistNetwork(): SpikingNetwork {
  const rng = new SeededRandom(12);
  return {
    name: 'cli-net',
    input: { shape: [28, 28, 1], encoding: 'binary', threshold: 0.5 },
    layers: [{ type: 'flatten', name: 'f', inputShape: [28, 28, 1], order: 'hwc' }, dense(rng, 'hidden', 784, 40, 0.5), dense(rng, 'out', 40, 20, 0)],
    output: { key: nHotKey(10, 2), classNames: ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'] },
  };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'whetstone-evaluate-'));
  runDir = join(dir, 'run');
  network = mnistNetwork();
  writeArtifact(join(runDir, 'snn'), network);
  writeFileSync(
    join(runDir, 'config.yaml'),
    'name: cli-net\nseed: 1\ndataset: {name: mnist, limit: {train: 100, test: 300}, validation: 0}\nmodel:\n  layers: [{type: flatten}, {type: dense, units: 40}, {type: spiking}]\n',
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectOneLineError(r: { code: number; stderr: string; stdout: string }, pattern: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trim().split('\n');
  expect(lines.filter((l) => l.startsWith('error'))).toHaveLength(1);
  expect(lines[0]).toMatch(/^error /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('whetstone evaluate <run-dir>', () => {
  it("prints accuracy, the confusion matrix, per-layer spikes, events vs MACs and the energy estimate for the run's test split", async () => {
    const r = await cli(['evaluate', runDir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const data = await loadDataset({ name: 'mnist', limit: { test: 300 } });
    const expected = evaluateSpikingNetwork(network, data.test);
    expect(r.stdout).toContain(`network     cli-net (${join(runDir, 'snn', 'network.json')})`);
    expect(r.stdout).toContain('dataset     mnist: 300 test images');
    expect(r.stdout).toContain(`accuracy    ${(expected.accuracy * 100).toFixed(2)}% (${expected.correct} / 300)`);
    expect(r.stdout).toMatch(/confusion matrix \(rows: true class, columns: predicted\)\n +zero +one +two/);
    expect(r.stdout).toMatch(/\nhidden +dense +1 +40 +[\d.]+ +[\d.]+% +[\d,]+ +31,360\n/);
    expect(r.stdout).toMatch(/\nout +dense +2 +20 /);
    expect(r.stdout).toMatch(/synaptic events \/ ANN MACs = \d\.\d{3}/);
    expect(r.stdout).toContain('energy per inference — ESTIMATE');
    for (const platform of ['Loihi', 'TrueNorth', 'SpiNNaker', 'ANN accelerator, fp32 MAC']) expect(r.stdout).toContain(platform);
  });

  it('--json prints the same as one JSON object on stdout', async () => {
    const r = await cli(['evaluate', runDir, '--json']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const json = JSON.parse(r.stdout);
    const data = await loadDataset({ name: 'mnist', limit: { test: 300 } });
    const expected = evaluateSpikingNetwork(network, data.test, { dataset: 'mnist' });
    expect(json.images).toBe(300);
    expect(json.accuracy).toBe(expected.accuracy);
    expect(json.confusion).toEqual(expected.confusion);
    expect(json.layers.map((l: { name: string }) => l.name)).toEqual(['hidden', 'out']);
    expect(json.layers[0].synaptic_events_per_inference).toBe(expected.layers[0]!.synaptic_events_per_inference);
    expect(json.energy.estimate).toBe(true);
    expect(json.energy.rows.map((e: { platform: string }) => e.platform)).toEqual(expected.energy.rows.map((e) => e.platform));
    expect(json.weight_bits).toBeNull();
    expect(json.source).toBe(join(runDir, 'snn', 'network.json'));
  });

  it('--limit evaluates the first N images; --weight-bits reports quantized and float accuracy', async () => {
    const r = await cli(['evaluate', runDir, '--json', '--limit', '50', '--weight-bits', '3']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.images).toBe(50);
    expect(json.weight_bits).toBe(3);
    expect(typeof json.unquantized_accuracy).toBe('number');
    expect(json.quantization.map((q: { layer: string }) => q.layer)).toEqual(['hidden', 'out']);
    const text = await cli(['evaluate', runDir, '--limit', '50', '--weight-bits', '3']);
    expect(text.stdout).toMatch(/with 3-bit weights; [\d.]+% with float32 weights/);
  });

  it('accepts the network.json itself, finding the run around it; or --data for a network outside a run', async () => {
    const inRun = await cli(['evaluate', join(runDir, 'snn', 'network.json'), '--json']);
    expect(inRun.code).toBe(0);
    expect(JSON.parse(inRun.stdout).images).toBe(300);
    const loose = join(dir, 'loose');
    writeArtifact(loose, network);
    expectOneLineError(await cli(['evaluate', join(loose, 'network.json')]), /no dataset to evaluate on/);
    const withData = await cli(['evaluate', loose, '--data', 'mnist', '--limit', '20', '--json']);
    expect(withData.code).toBe(0);
    expect(JSON.parse(withData.stdout)).toMatchObject({ images: 20, dataset: 'mnist' });
  });
});

describe('whetstone evaluate: bad input is exit 2 with one line', () => {
  it('a missing run directory', async () => {
    expectOneLineError(await cli(['evaluate', join(dir, 'runs', 'nope')]), /nope: no such file or directory/);
  });

  it('a directory that is not a run', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty, { recursive: true });
    expectOneLineError(await cli(['evaluate', empty]), /not a run directory or spiking network/);
  });

  it('a corrupted network.json', async () => {
    const bad = join(dir, 'corrupt');
    writeArtifact(join(bad, 'snn'), network);
    writeFileSync(join(bad, 'snn', 'network.json'), readFileSync(join(bad, 'snn', 'network.json'), 'utf8').slice(0, 200));
    expectOneLineError(await cli(['evaluate', bad, '--data', 'mnist']), /network\.json: not valid JSON/);
  });

  it('a truncated weights.bin', async () => {
    const bad = join(dir, 'truncated');
    writeArtifact(join(bad, 'snn'), network);
    truncateSync(join(bad, 'snn', 'weights.bin'), 1000);
    expectOneLineError(await cli(['evaluate', bad, '--data', 'mnist']), /weights\.bin: is 1000 bytes but network\.json describes \d+/);
  });

  it('bad flags and datasets', async () => {
    expectOneLineError(await cli(['evaluate', runDir, '--weight-bits', '1']), /--weight-bits: must be an integer from 2 to 16/);
    expectOneLineError(await cli(['evaluate', runDir, '--data', 'imagenet']), /--data imagenet: not a dataset name/);
    expectOneLineError(await cli(['evaluate', runDir, '--data', 'cifar10']), /--data cifar10: needs files/);
    const cnn = join(dir, 'cnn');
    writeArtifact(cnn, smallCnn(1));
    expectOneLineError(await cli(['evaluate', cnn, '--data', 'mnist']), /dataset mnist has 28×28×1 images but the network expects 9×7×2/);
    const usage = await cli(['evaluate', runDir, '--limit', '0']);
    expect(usage.code).toBe(2);
  });
});
