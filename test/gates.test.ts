import { describe, expect, it } from 'vitest';
import { parseOverride, parseExperiment, formatProblem } from '../src/config/loader.js';
import { InputError } from '../src/errors.js';
import { checkGates, parseGates } from '../src/train/gates.js';
import { SUMMARY_KEYS } from '../src/train/pipeline.js';

describe('--assert gates', () => {
  const summary = { spiking_accuracy: 0.96, epochs: 8, sharpening_finished: true, dataset: 'mnist', snn: { agrees_with_tfjs: true, accuracy: 0.96 } };

  it('parse KEY OP VALUE and compare numbers, booleans and strings', () => {
    const gates = parseGates(
      ['spiking_accuracy>=0.95', 'spiking_accuracy > 0.97', 'epochs<=8', 'snn.agrees_with_tfjs==true', 'dataset!=mnist', 'sharpening_finished == true'],
      SUMMARY_KEYS,
    );
    expect(checkGates(gates, summary).map((r) => r.passed)).toEqual([true, false, true, true, false, true]);
  });

  it('reject malformed gates and unknown keys before anything runs, with a hint', () => {
    expect(() => parseGates(['spiking_accuracy=>0.9'], SUMMARY_KEYS)).toThrow(InputError);
    expect(() => parseGates(['spiking_acuracy>=0.9'], SUMMARY_KEYS)).toThrow(/no key 'spiking_acuracy' \(did you mean 'spiking_accuracy'\?\)/);
    expect(() => parseGates(['epochs>=many'], SUMMARY_KEYS)).toThrow(/not a number/);
  });
});

describe('--set overrides', () => {
  const base = 'model:\n  layers:\n    - {type: flatten}\n    - {type: dense, units: 8}\n    - {type: spiking}\ntraining: {epochs: 4}\n';

  it('apply YAML values at dotted paths, list indices included', () => {
    const r = parseExperiment(base, 'x.yaml', '/', [parseOverride('training.epochs=2'), parseOverride('model.layers.1.units=16'), parseOverride('sharpening={schedule: adaptive}')]);
    expect(r.errors).toEqual([]);
    expect(r.config!.training.epochs).toBe(2);
    expect(r.config!.model.layers[1]).toMatchObject({ type: 'dense', units: 16 });
    expect(r.config!.sharpening.schedule).toBe('adaptive');
  });

  it('report a bad value against the flag, not a line of the file', () => {
    const r = parseExperiment(base, 'x.yaml', '/', [parseOverride('training.epochs=0')]);
    expect(r.errors.map(formatProblem)).toEqual(['--set training.epochs=0 training.epochs: must be a positive integer']);
    const typo = parseExperiment(base, 'x.yaml', '/', [parseOverride('training.epoch=3')]);
    expect(typo.errors.map(formatProblem)[0]).toMatch(/unknown key \(did you mean 'epochs'\?\)/);
  });

  it('reject text that is not key.path=value', () => {
    expect(() => parseOverride('training.epochs')).toThrow(/expected key.path=value/);
    expect(() => parseOverride('=3')).toThrow(InputError);
  });
});
