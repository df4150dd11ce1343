import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatProblem, parseExperiment } from '../src/config/loader.js';
import { closest } from '../src/util/near-miss.js';
import { configReference } from '../src/config/reference.js';

const minimal = 'model:\n  layers:\n    - {type: flatten}\n    - {type: dense, units: 8}\n    - {type: spiking}\n';

function errors(yaml: string): string[] {
  return parseExperiment(yaml, 'x.yaml').errors.map(formatProblem);
}

describe('experiment loader', () => {
  it('fills every default of a minimal config', () => {
    const { config, errors: errs } = parseExperiment(minimal, 'x.yaml');
    expect(errs).toEqual([]);
    expect(config!.dataset).toEqual({ name: 'mnist', validation: 0.1 });
    expect(config!.training.optimizer.name).toBe('adadelta');
    expect(config!.sharpening).toMatchObject({ schedule: 'simple', order: 'bottom_up' });
    expect(config!.model.output.neurons_per_class).toBe(10);
  });

  it('resolves dataset paths against the config file, not the working directory', () => {
    const { config } = parseExperiment(`dataset: {name: idx, path: data/mnist}\n${minimal}`, '/exp/configs/a.yaml');
    expect(config!.dataset.path).toBe('/exp/configs/data/mnist');
  });

  it('requires a path for file-based datasets and rejects files for others', () => {
    expect(errors(`dataset: {name: cifar10}\n${minimal}`)).toEqual(["x.yaml:1:10 dataset.path: is required for dataset 'cifar10'"]);
    expect(errors(`dataset: {name: mnist, files: {train_images: a}}\n${minimal}`)[0]).toMatch(/dataset.files: only applies to dataset 'idx'/);
  });

  it('points at unknown keys in nested lists and suggests the right one', () => {
    const e = errors('model:\n  layers:\n    - {type: conv2d, filter: 3}\n');
    expect(e).toContain("x.yaml:3:22 model.layers.0.filter: unknown key (did you mean 'filters'?)");
    expect(e).toContain('x.yaml:3:7 model.layers.0.filters: is required');
  });

  it('names unknown schedule and layer types with the valid choices', () => {
    expect(errors(`${minimal}sharpening: {schedule: adaptiv}\n`)[0]).toBe(
      "x.yaml:6:24 sharpening.schedule: unknown schedule 'adaptiv', expected one of simple, scheduled, adaptive (did you mean 'adaptive'?)",
    );
  });

  it('checks ranges and types with readable messages', () => {
    expect(errors(`${minimal}dataset: {validation: 0.9}\n`)[0]).toMatch(/dataset.validation: must be ≤ 0.5, got 0.9/);
    expect(errors(`${minimal}training: {optimizer: {name: adam, learning_rate: -1}}\n`)[0]).toMatch(/learning_rate: must be > 0, got -1/);
    expect(errors(`${minimal}seed: "abc"\n`)[0]).toMatch(/seed: must be an integer ≥ 0/);
    expect(errors('model:\n  layers: []\n')[0]).toMatch(/model.layers: must have at least 1 item/);
    expect(errors(`${minimal}sharpening: {schedule: scheduled}\n`)[0]).toMatch(/sharpening: needs either `layers` or both `start` and `duration`/);
  });

  it('rejects duplicate keys', () => {
    expect(errors(`seed: 1\nseed: 2\n${minimal}`)[0]).toMatch(/invalid YAML: .*[Uu]nique/);
  });

  it('warns when sharpening cannot start before the epoch limit', () => {
    const r = parseExperiment(`${minimal}training: {epochs: 3}\nsharpening: {schedule: simple, start_epoch: 5}\n`, 'x.yaml');
    expect(r.errors).toEqual([]);
    expect(r.warnings.map(formatProblem)).toEqual(['x.yaml:7:45 sharpening.start_epoch: sharpening starts at epoch 5 but training has only 3 epochs']);
  });

  it('suggests only plausible names', () => {
    expect(closest('epoch', ['epochs', 'batch_size'])).toBe('epochs');
    expect(closest('zzzzzz', ['epochs', 'batch_size'])).toBeUndefined();
  });
});

describe('docs/config.md', () => {
  it('is generated from the current schema (run `npm run docs:config`)', () => {
    expect(readFileSync(new URL('../docs/config.md', import.meta.url), 'utf8')).toBe(configReference());
  });
});
