/**
 * `whetstone train` end to end, in-process through runMain, on the ci-smoke experiment
 * (a tiny dense network on an MNIST subset) and on an even smaller variant for resume.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadModel } from '../src/model/io.js';
import { SpikingBRelu } from '../src/model/layers/spiking.js';
import { tf } from '../src/backend/tf.js';
import { cli } from './helpers/cli.js';

let out: string;
beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'whetstone-train-'));
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

function onlyRun(dir: string): string {
  const runs = readdirSync(dir);
  expect(runs).toHaveLength(1);
  return join(dir, runs[0]!);
}

describe('whetstone train configs/ci-smoke.yaml', () => {
  let runDir: string;
  let result: Awaited<ReturnType<typeof cli>>;

  beforeAll(async () => {
    result = await cli(['train', 'configs/ci-smoke.yaml', '--out', join(out, 'smoke')]);
    runDir = onlyRun(join(out, 'smoke'));
  }, 300_000);

  it('exits 0, prints the backend once and one plain line per epoch to stderr, the result to stdout', () => {
    expect(result.stderr).not.toMatch(/error/);
    expect(result.code).toBe(0);
    expect(result.stderr.match(/^backend: /gm)).toHaveLength(1);
    const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(result.stderr.match(/^epoch +\d+ \| loss/gm)).toHaveLength(metrics.length);
    expect(result.stderr).not.toContain('\r'); // no redraws outside a TTY
    expect(result.stdout).toContain(`run         ${runDir}`);
    expect(result.stdout).toMatch(/spiking \d+\.\d\d%/);
  });

  it('writes the run directory: config, metadata, metrics per epoch, model, summary', () => {
    for (const f of ['config.yaml', 'metadata.json', 'metrics.jsonl', 'summary.json', 'evaluation.json', 'model/model.json', 'model/weights.bin', 'unsharpened/model.json', 'checkpoint/state.json', 'snn/network.json', 'snn/weights.bin']) {
      expect(existsSync(join(runDir, f)), f).toBe(true);
    }
    const config = parse(readFileSync(join(runDir, 'config.yaml'), 'utf8'));
    expect(config.training.batch_size).toBe(64);
    expect(config.sharpening.schedule).toBe('simple');
    const metadata = JSON.parse(readFileSync(join(runDir, 'metadata.json'), 'utf8'));
    expect(metadata.backend.name).toMatch(/^(tfjs-node|wasm|cpu)$/);
    expect(metadata.seed).toBe(7);
    expect(Date.parse(metadata.ended_at)).toBeGreaterThanOrEqual(Date.parse(metadata.started_at));
    const lines = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    lines.forEach((m, i) => {
      expect(m.epoch).toBe(i + 1);
      expect(m.sharpness).toHaveLength(3);
      for (const k of ['loss', 'accuracy', 'val_accuracy', 'spiking_val_accuracy', 'seconds', 'images_per_second']) expect(typeof m[k], k).toBe('number');
    });
    // Bottom-up: a layer never becomes sharper than the one below it.
    for (const m of lines) for (let l = 1; l < 3; l++) expect(m.sharpness[l]).toBeLessThanOrEqual(m.sharpness[l - 1]);
    expect(lines.at(-1).sharpness).toEqual([1, 1, 1]);
  });

  it('reaches the ci-smoke target: ≥ 85% spiking accuracy on 1,000 test images', () => {
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'));
    expect(summary.sharpening_finished).toBe(true);
    expect(summary.test_images).toBe(1000);
    expect(summary.spiking_accuracy).toBeGreaterThanOrEqual(0.85);
    expect(summary.unsharpened_accuracy).toBeGreaterThan(0.85);
    // The framework-free simulator runs the same network: same class for every test image.
    expect(summary.snn.agrees_with_tfjs).toBe(true);
    expect(summary.snn.accuracy).toBe(summary.spiking_accuracy);
  });

  it('saves a folded model that reloads with tf.loadLayersModel as an exact step network', async () => {
    const model = await loadModel(join(runDir, 'model'));
    const spiking = model.layers.filter((l) => l instanceof SpikingBRelu) as SpikingBRelu[];
    expect(spiking.map((l) => l.sharpness)).toEqual([1, 1, 1]);
    expect(model.layers.map((l) => l.getClassName())).not.toContain('BatchNormalization');
    // Every hidden activation is a spike or silence.
    const hidden = tf.model({ inputs: model.inputs, outputs: spiking.map((l) => l.output as tf.SymbolicTensor) });
    const x = tf.randomUniform([8, 28, 28, 1], 0, 1, 'float32', 3);
    const acts = hidden.predict(x) as tf.Tensor[];
    for (const a of acts) expect(new Set(a.dataSync())).toEqual(new Set([0, 1]));
  });
});

function tinyConfig(): string {
  // Sharpening needs 1 + 3 epochs (start at epoch 1, one step per layer per epoch).
  const config = join(out, 'tiny.yaml');
  writeFileSync(
    config,
    readFileSync('configs/ci-smoke.yaml', 'utf8')
      .replace(/limit: .*/, 'limit: {train: 600, test: 200}')
      .replace(/start_epoch: .*/, 'start_epoch: 1')
      .replace(/steps: .*/, 'steps: 1')
      .replace(/per: .*/, 'per: epoch'),
  );
  return config;
}

describe('experiments in CI: --json, --assert, --set', () => {
  it('--json prints only the summary on stdout; a gate that holds exits 0, one that fails exits 3 naming it', async () => {
    const config = tinyConfig();
    const pass = await cli(['train', config, '--out', join(out, 'gates'), '--json', '--set', 'training.epochs=5', '--assert', 'sharpening_finished==true', '--assert', 'snn.agrees_with_tfjs==true']);
    expect(pass.stderr).not.toMatch(/error/);
    expect(pass.code).toBe(0);
    const lines = pass.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0]!);
    expect(summary.max_epochs).toBe(5); // from --set
    expect(summary.epochs).toBe(4);
    expect(pass.stderr).toContain('gates passed: sharpening_finished==true, snn.agrees_with_tfjs==true');

    const fail = await cli(['train', config, '--out', join(out, 'gates'), '--assert', 'spiking_accuracy>=0.999']);
    expect(fail.code).toBe(3);
    expect(fail.stderr).toMatch(/gate failed: spiking_accuracy>=0.999 \(spiking_accuracy = 0\.\d+\)/);
  }, 120_000);

  it('a mistyped gate or override is refused before training (exit 2, nothing written)', async () => {
    const dir = join(out, 'refused');
    const gate = await cli(['train', 'configs/ci-smoke.yaml', '--out', dir, '--assert', 'spiking_acc>=0.9']);
    expect(gate.code).toBe(2);
    expect(gate.stderr).toMatch(/summary has no key 'spiking_acc'/);
    const set = await cli(['train', 'configs/ci-smoke.yaml', '--out', dir, '--set', 'training.epochs=-1']);
    expect(set.code).toBe(2);
    expect(set.stderr).toContain('--set training.epochs=-1 training.epochs: must be a positive integer');
    expect(existsSync(dir)).toBe(false);
  });
});

describe('determinism', () => {
  it('the same config, seed and backend give the same metrics, weights and spiking network', async () => {
    const config = tinyConfig();
    const runs = [join(out, 'det-a'), join(out, 'det-b')];
    for (const dir of runs) expect((await cli(['train', config, '--out', dir, '--backend', 'wasm'])).code).toBe(0);
    const [a, b] = runs.map(runResult);
    expect(a!.metrics).toEqual(b!.metrics);
    expect(a!.weights.equals(b!.weights)).toBe(true);
    expect(a!.summary.spiking_accuracy).toBe(b!.summary.spiking_accuracy);
  }, 120_000);

  it('augmentation is drawn from the seed: two augmented runs agree, and differ from a plain one', async () => {
    const config = tinyConfig();
    const runs = [join(out, 'aug-a'), join(out, 'aug-b'), join(out, 'aug-plain')];
    for (const dir of runs) {
      const set = dir.endsWith('plain') ? [] : ['--set', 'training.augmentation={shift: 2, flip_horizontal: true}'];
      const r = await cli(['train', config, '--out', dir, '--backend', 'wasm', ...set]);
      expect(r.stderr).not.toMatch(/error/);
      expect(r.code).toBe(0);
    }
    const [a, b, plain] = runs.map(runResult);
    expect(a!.metrics).toEqual(b!.metrics);
    expect(a!.weights.equals(b!.weights)).toBe(true);
    expect(a!.metrics[0].loss).not.toBe(plain!.metrics[0].loss);
    expect(a!.weights.equals(plain!.weights)).toBe(false);
    const resolved = parse(readFileSync(join(onlyRun(runs[0]!), 'config.yaml'), 'utf8'));
    expect(resolved.training.augmentation).toEqual({ shift: 2, flip_horizontal: true });
  }, 120_000);

  it('learning_rate_schedule sets each epoch\'s rate; until_epoch stops augmenting, a list of phases changes it', async () => {
    const config = tinyConfig();
    const lr = ['--set', 'training.learning_rate_schedule={type: step, milestones: [1], factor: 0.5}'];
    const dirs = { until: join(out, 'aug-until'), always: join(out, 'aug-always'), phases: join(out, 'aug-phases') };
    const augmentation = {
      until: '{shift: 2, flip_horizontal: true, until_epoch: 1}',
      always: '{shift: 2, flip_horizontal: true}',
      phases: '[{shift: 2, flip_horizontal: true, until_epoch: 1}, {shift: 1}]',
    };
    for (const [name, dir] of Object.entries(dirs)) {
      const r = await cli(['train', config, '--out', dir, '--backend', 'wasm', ...lr, '--set', `training.augmentation=${augmentation[name as keyof typeof dirs]}`]);
      expect(r.stderr).not.toMatch(/error/);
      expect(r.code).toBe(0);
      expect(r.stdout + r.stderr).toMatch(/epoch +2 .*\| lr 2 \|/);
    }
    const until = runResult(dirs.until);
    const always = runResult(dirs.always);
    const phases = runResult(dirs.phases);
    const augmented = runResult(join(out, 'aug-a'));
    expect(until.metrics.map((m: { learning_rate: number }) => m.learning_rate)).toEqual([4, ...until.metrics.slice(1).map(() => 2)]);
    // Epoch 1 is the same augmented, full-rate epoch in all three runs; epoch 2 differs by the
    // rate (vs aug-a) and by the images (until vs always).
    expect(until.metrics[0]).toEqual(augmented.metrics[0]);
    expect(always.metrics[0]).toEqual(augmented.metrics[0]);
    expect(until.metrics[1].loss).not.toBe(augmented.metrics[1].loss);
    expect(until.metrics[1].loss).not.toBe(always.metrics[1].loss);
    // A list of phases: epoch 1 as above, epoch 2 with 1-pixel shifts (neither plain nor 2 pixels).
    expect(phases.metrics[0]).toEqual(augmented.metrics[0]);
    expect(new Set([phases.metrics[1].loss, until.metrics[1].loss, always.metrics[1].loss]).size).toBe(3);
    const resolved = parse(readFileSync(join(onlyRun(dirs.phases), 'config.yaml'), 'utf8'));
    expect(resolved.training.augmentation).toEqual([
      { shift: 2, flip_horizontal: true, until_epoch: 1 },
      { shift: 1, flip_horizontal: false },
    ]);
  }, 180_000);
});

/** What two runs must share to count as the same: metrics without times, spiking weights, summary. */
function runResult(dir: string) {
  const run = onlyRun(dir);
  const metrics = readFileSync(join(run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const { seconds: _s, images_per_second: _i, ...rest } = JSON.parse(l);
      return rest;
    });
  return { metrics, weights: readFileSync(join(run, 'snn', 'weights.bin')), summary: JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8')) };
}

describe('interrupted runs', () => {
  it('a run that hits the epoch limit says so, exits 1, and --resume finishes it', async () => {
    const dir = join(out, 'resume');
    const config = tinyConfig();
    const first = await cli(['train', config, '--out', dir, '--epochs', '2']);
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/sharpening did not finish within 2 epochs/);
    const runDir = onlyRun(dir);
    expect(JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')).sharpening_finished).toBe(false);

    const resumed = await cli(['train', '--resume', runDir, '--epochs', '6']);
    expect(resumed.stderr).toMatch(/resuming at epoch 3/);
    expect(resumed.code).toBe(0);
    const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics.map((m) => m.epoch)).toEqual(metrics.map((_, i) => i + 1));
    expect(metrics.length).toBe(4);
    expect(JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')).sharpening_finished).toBe(true);
    expect(JSON.parse(readFileSync(join(runDir, 'metadata.json'), 'utf8')).resumed_at).toHaveLength(1);
  }, 300_000);

  it('--from branches a run: the same result as the full run of the new config; refused where they differ before the checkpoint', async () => {
    const config = tinyConfig();
    const later = ['--set', 'training.learning_rate_schedule={type: step, milestones: [2], factor: 0.5}'];
    const dirs = { source: join(out, 'from-source'), full: join(out, 'from-full'), branch: join(out, 'from-branch'), refused: join(out, 'from-refused') };
    expect((await cli(['train', config, '--out', dirs.source, '--epochs', '2'])).code).toBe(1);
    expect((await cli(['train', config, '--out', dirs.full, ...later])).code).toBe(0);
    const source = onlyRun(dirs.source);
    const branch = await cli(['train', config, '--out', dirs.branch, '--from', source, ...later]);
    expect(branch.stderr).not.toMatch(/error/);
    expect(branch.code).toBe(0);
    expect(branch.stderr).toContain(`branching from ${source} at epoch 3: ci-smoke`);
    // Epochs 1–2 come from the source run, 3–4 were trained here: together, what the full run did.
    const full = runResult(dirs.full);
    const branched = runResult(dirs.branch);
    expect(branched.metrics).toEqual(full.metrics);
    expect(branched.weights.equals(full.weights)).toBe(true);
    expect(branched.summary.unsharpened_accuracy).toBe(full.summary.unsharpened_accuracy);
    expect(branched.summary.spiking_accuracy).toBe(full.summary.spiking_accuracy);
    const metadata = JSON.parse(readFileSync(join(onlyRun(dirs.branch), 'metadata.json'), 'utf8'));
    expect(metadata.branched_from).toEqual({ run: source, epoch: 2 });

    const refusals: [string[], RegExp][] = [
      [['--set', 'training.learning_rate_schedule={type: step, milestones: [1], factor: 0.5}'], /: the learning rate of epoch 2 differs \(4 in the run, 2 here\)/],
      [['--set', 'seed=8'], /: seed differs from the run's/],
      [['--set', 'model.layers.1.units=64'], /: model\.layers\.1\.units differs from the run's/],
      [['--set', 'training.augmentation={shift: 1}'], /: the augmentation of epoch 1 differs/],
      [['--set', 'sharpening.start_epoch=0'], /: sharpening differs at the end of epoch 1/],
    ];
    for (const [set, message] of refusals) {
      const r = await cli(['train', config, '--out', dirs.refused, '--from', source, ...set]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.split('\n').filter((l) => l.startsWith('error'))).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(existsSync(dirs.refused) ? readdirSync(dirs.refused) : []).toEqual([]);
    const noConfig = await cli(['train', '--from', source]);
    expect(noConfig.code).toBe(2);
    expect(noConfig.stderr).toMatch(/--from starts a new run of a config/);
  }, 300_000);

  it('--resume on a directory that is not a run is a one-line input error', async () => {
    const r = await cli(['train', '--resume', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a run directory/);
  });
});
