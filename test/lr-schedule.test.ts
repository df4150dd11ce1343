import { describe, expect, it } from 'vitest';
import { formatProblem, parseExperiment } from '../src/config/loader.js';
import type { LearningRateScheduleConfig } from '../src/config/schema.js';
import { tf } from '../src/model/tf.js';
import { learningRateAt } from '../src/train/lr-schedule.js';
import { createOptimizer, setLearningRate } from '../src/train/optimizer.js';

const minimal = 'model:\n  layers:\n    - {type: flatten}\n    - {type: dense, units: 8}\n    - {type: spiking}\n';

function parse(schedule: string, epochs = 10) {
  const { config, errors } = parseExperiment(`${minimal}training: {epochs: ${epochs}, learning_rate_schedule: ${schedule}}\n`, 'x.yaml');
  return { schedule: config?.training.learning_rate_schedule as LearningRateScheduleConfig, errors: errors.map(formatProblem) };
}

const rates = (s: LearningRateScheduleConfig | undefined, epochs: number) =>
  Array.from({ length: epochs }, (_, e) => learningRateAt(s, 4, e, epochs));

describe('learning-rate schedules', () => {
  it('without a schedule the rate is constant', () => {
    expect(rates(undefined, 4)).toEqual([4, 4, 4, 4]);
  });

  it('step: multiplies by factor at each milestone (PyTorch MultiStepLR)', () => {
    const { schedule, errors } = parse('{type: step, milestones: [2, 4], factor: 0.5}');
    expect(errors).toEqual([]);
    expect(rates(schedule, 6)).toEqual([4, 4, 2, 2, 1, 1]);
  });

  it('exponential: the base rate before start_epoch, then one factor more per epoch', () => {
    const { schedule } = parse('{type: exponential, start_epoch: 2, factor: 0.5}');
    expect(rates(schedule, 5)).toEqual([4, 4, 2, 1, 0.5]);
    expect(rates(parse('{type: exponential, factor: 0.5}').schedule, 2)).toEqual([2, 1]);
  });

  it('cosine: falls from the base rate to min_learning_rate in the last epoch, and stays there', () => {
    const { schedule } = parse('{type: cosine, start_epoch: 1, end_epoch: 5, min_learning_rate: 1}');
    const r = rates(schedule, 7);
    expect(r[0]).toBe(4);
    expect(r[1]).toBeCloseTo(1 + 3 * (1 + Math.cos(Math.PI / 4)) / 2, 12);
    expect(r[2]).toBeCloseTo(2.5, 12);
    expect(r[4]).toBeCloseTo(1, 12);
    expect(r[6]).toBeCloseTo(1, 12);
    for (let e = 1; e < 5; e++) expect(r[e]!).toBeLessThan(r[e - 1]!);
  });

  it('cosine ends with training.epochs when end_epoch is not given', () => {
    const { schedule } = parse('{type: cosine, start_epoch: 2}', 6);
    expect(schedule).toEqual({ type: 'cosine', start_epoch: 2, min_learning_rate: 0 });
    const r = rates(schedule, 6);
    expect(r[5]).toBeCloseTo(0, 12);
    expect(r[4]).toBeGreaterThan(0);
  });

  it('refuses schedules that cannot be meant, naming the key', () => {
    expect(parse('{type: step, milestones: [3, 2], factor: 0.5}').errors[0]).toMatch(/learning_rate_schedule\.milestones: must be increasing/);
    expect(parse('{type: exponential, factor: 1.5}').errors[0]).toMatch(/learning_rate_schedule\.factor/);
    expect(parse('{type: cosine, start_epoch: 10}', 10).errors[0]).toMatch(
      /learning_rate_schedule\.start_epoch: cosine decay needs end_epoch \(default: training.epochs\) after start_epoch/,
    );
    expect(parse('{type: linear}').errors[0]).toMatch(/learning_rate_schedule\.type/);
    expect(parse('{type: step, milestones: [1], factor: 0.5, start_epoch: 1}').errors[0]).toMatch(/unknown key/);
  });
});

describe('setLearningRate', () => {
  // One step on w = [1] with gradient 1: the change must scale with the rate for every optimizer.
  async function stepSize(name: 'adadelta' | 'adam' | 'sgd' | 'rmsprop', momentum: number, rate: number | undefined): Promise<number> {
    const optimizer = createOptimizer({ name, learning_rate: 1, momentum });
    if (rate !== undefined) setLearningRate(optimizer, rate);
    const w = tf.variable(tf.tensor1d([1]), true, `w_${name}_${momentum}_${rate}_${Math.random()}`);
    optimizer.applyGradients({ [w.name]: tf.tensor1d([1]) });
    const moved = 1 - (await w.data())[0]!;
    w.dispose();
    optimizer.dispose();
    return moved;
  }

  for (const [name, momentum] of [['adadelta', 0], ['adam', 0], ['sgd', 0], ['sgd', 0.9], ['rmsprop', 0]] as const) {
    it(`${name}${momentum ? ' with momentum' : ''}: the next step uses the new rate`, async () => {
      const base = await stepSize(name, momentum, undefined);
      expect(base).toBeGreaterThan(0);
      expect(await stepSize(name, momentum, 0.25)).toBeCloseTo(base * 0.25, 6);
    });
  }
});
