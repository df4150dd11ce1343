/**
 * `whetstone sharpen` end to end, in-process through the CLI: networks built and trained with
 * plain tfjs (a ReLU CNN with batch norm and dropout, a functional sigmoid MLP on flat input),
 * saved in the standard layers format, cross-trained into spiking networks on an MNIST subset.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '../src/backend/index.js';
import { cli } from './helpers/cli.js';
import { fitPlain, mnistTensors, reluCnn, saveLayersModel, sigmoidMlp } from './helpers/source-models.js';

/**
 * Train and test images: each source network is trained on the same subset sharpen fine-tunes on.
 * The CNN needs more than the MLP: at 3,000 images sharpening its conv layer cost 5–6 points on
 * the test images, at 6,000 under one (docs/sharpen.md).
 */
const IMAGES = 3000;
const CNN_IMAGES = 6000;

let out: string;
beforeAll(async () => {
  await initBackend();
  out = mkdtempSync(join(tmpdir(), 'whetstone-sharpen-'));
  // Small batches: sharpening needs optimizer steps, and a 3,000-image subset has few per epoch.
  writeFileSync(
    join(out, 'finetune.yaml'),
    [
      `dataset: {name: mnist, limit: ${IMAGES}, validation: 0.1}`,
      'training: {epochs: 10, batch_size: 16, optimizer: {name: adam, learning_rate: 0.0003}}',
      'sharpening: {schedule: scheduled, order: bottom_up, start: 1, duration: 2}',
    ].join('\n'),
  );
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Trains `model` on the first `images` MNIST training images, saves it, and sharpens it with `data`. */
async function sharpenTrained(name: string, model: tf.LayersModel, images: number, shards: number, data: string[]) {
  const { x, y } = await mnistTensors(images, 100);
  await fitPlain(model, x, y, 5);
  x.dispose();
  y.dispose();
  const file = await saveLayersModel(model, join(out, name), shards);
  model.dispose();
  const r = await cli(['sharpen', file, ...data, '--out', join(out, 'runs')]);
  expect(r.stderr).not.toMatch(/^error/m);
  expect(r.code).toBe(0);
  const runDir = r.stdout.match(/^run +(.+)$/m)![1]!;
  return { r, runDir, file, summary: JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) };
}

describe('a ReLU CNN trained with plain tfjs (multi-shard model.save output)', () => {
  let run: Awaited<ReturnType<typeof sharpenTrained>>;
  beforeAll(async () => {
    // sharpen's own defaults: --data NAME.
    run = await sharpenTrained('relu-cnn', reluCnn(), CNN_IMAGES, 3, ['--data', 'mnist', '--limit', String(CNN_IMAGES)]);
  }, 180_000);

  it('becomes a spiking network within 2 points of the original on the same test images', () => {
    const s = run.summary;
    expect(s.sharpening_finished).toBe(true);
    expect(s.test_images).toBe(CNN_IMAGES);
    expect(s.source_model).toBe(run.file);
    expect(s.original_accuracy).toBeGreaterThan(0.85);
    expect(s.spiking_accuracy).toBeGreaterThanOrEqual(s.original_accuracy - 0.02);
    expect(s.snn.agrees_with_tfjs).toBe(true);
    expect(s.snn.accuracy).toBe(s.spiking_accuracy);
  });

  it('writes the same run directory as train', () => {
    for (const f of ['config.yaml', 'metadata.json', 'metrics.jsonl', 'summary.json', 'evaluation.json', 'model/model.json', 'unsharpened/model.json', 'checkpoint/state.json', 'snn/network.json']) {
      expect(existsSync(join(run.runDir, f)), f).toBe(true);
    }
    // Batch norm folded and dropout removed in the spiking model.
    const classes = JSON.parse(readFileSync(join(run.runDir, 'model/model.json'), 'utf8')).modelTopology.config.layers.map((l: { class_name: string }) => l.class_name);
    expect(classes).not.toContain('BatchNormalization');
    expect(classes).not.toContain('Dropout');
    expect(classes).toContain('SpikingBRelu');
    expect(classes.at(-1)).toBe('SoftmaxDecode');
  });

  it('prints one table from the original model to the simulator', () => {
    const out = run.r.stdout;
    for (const label of ['original model', 'rewritten, before fine-tuning', 'fine-tuned, before sharpening', 'spiking (tfjs)', 'spiking (simulator)']) {
      expect(out).toMatch(new RegExp(`^  ${label.replace(/[()]/g, '\\$&')} +\\d+\\.\\d\\d%`, 'm'));
    }
    expect(out).toMatch(/points against the original/);
    expect(run.r.stderr.match(/^epoch +\d+ \| loss/gm)!.length).toBe(run.summary.epochs);
  });
});

describe('a sigmoid MLP (functional, flat input) trained with plain tfjs', () => {
  it('becomes a spiking network within 2 points of the original', async () => {
    const { summary } = await sharpenTrained('sigmoid-mlp', sigmoidMlp(), IMAGES, 1, ['--data', join(out, 'finetune.yaml')]);
    expect(summary.sharpening_finished).toBe(true);
    expect(summary.original_accuracy).toBeGreaterThan(0.85);
    expect(summary.spiking_accuracy).toBeGreaterThanOrEqual(summary.original_accuracy - 0.02);
    expect(summary.snn.agrees_with_tfjs).toBe(true);
  }, 180_000);
});
