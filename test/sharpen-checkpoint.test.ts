import { describe, expect, it } from 'vitest';
import { sharpeningSchema, type SharpeningConfig } from '../src/config/schema.js';
import { InputError } from '../src/errors.js';
import { createSchedule, type SharpeningCheckpoint, type SharpeningSchedule } from '../src/sharpen/index.js';

const config = (input: Record<string, unknown>): SharpeningConfig => sharpeningSchema.parse(input);

/** A loss curve with plateaus, spikes and drops, so the adaptive state is exercised. */
function loss(epoch: number): number {
  const curve = [2, 1.5, 1.2, 1.2, 1.19, 1.21, 1.5, 1.5, 1.5, 1.0, 1.0, 1.3, 1.3, 1.3, 1.3];
  return curve[epoch % curve.length]!;
}

/** Progress positions as [epoch, batch]; batch −1 means the end of the epoch. */
function positions(epochs: number, batches: number): [number, number][] {
  const out: [number, number][] = [];
  for (let e = 0; e < epochs; e++) {
    for (let b = 0; b < batches; b++) out.push([e, b]);
    out.push([e, -1]);
  }
  return out;
}

function advance(s: SharpeningSchedule, [epoch, batch]: [number, number]): number[] {
  if (batch < 0) s.afterEpoch(epoch, loss(epoch));
  else s.afterBatch(epoch, batch);
  return [...s.sharpness];
}

/** JSON round trip, as through a checkpoint file. */
const throughFile = (s: SharpeningSchedule) => JSON.parse(JSON.stringify(s.toJSON())) as SharpeningCheckpoint;

const cases: [string, SharpeningConfig][] = [
  ['simple per epoch, bottom_up', config({ schedule: 'simple', start_epoch: 2, steps: 3, per: 'epoch' })],
  ['simple per batch, uniform', config({ schedule: 'simple', order: 'uniform', start_epoch: 1, steps: 13, per: 'batch' })],
  ['scheduled, generated', config({ schedule: 'scheduled', start: 1, duration: 2, intermission: 1 })],
  ['scheduled, explicit', config({ schedule: 'scheduled', layers: [[0, 3], [2, 5], [4, 9]] })],
  ['adaptive, bottom_up', config({ schedule: 'adaptive', min_init_epochs: 2, patience: 0, rate: 0.5, first_layer_relative_rate: 1.5 })],
  ['adaptive, uniform', config({ schedule: 'adaptive', order: 'uniform', min_init_epochs: 3, patience: 1 })],
];

describe('checkpoint and restore', () => {
  for (const [name, c] of cases) {
    it(`continues exactly as if uninterrupted: ${name}`, () => {
      const B = 5;
      const path = positions(40, B);
      const reference = createSchedule(c, 3, B);
      const expected = path.map((p) => advance(reference, p));
      expect(expected.some((row) => row.some((v) => v > 0 && v < 1))).toBe(true);
      // Cut at epoch ends and in the middle of epochs.
      for (const cut of [3, 6 * (B + 1) - 1, 8 * (B + 1) + 2, 17 * (B + 1)]) {
        const first = createSchedule(c, 3, B);
        const before = path.slice(0, cut).map((p) => advance(first, p));
        const resumed = createSchedule(c, 3, B, throughFile(first));
        expect(resumed.sharpness).toEqual(first.sharpness);
        expect(resumed.phase).toBe(first.phase);
        const after = path.slice(cut).map((p) => advance(resumed, p));
        expect([...before, ...after]).toEqual(expected);
      }
    });
  }

  it('keeps the adaptive overshoot wait across a mid-epoch checkpoint', () => {
    const c = config({ schedule: 'adaptive', min_init_epochs: 1, patience: 0, rate: 1, critical: 1, first_layer_relative_rate: 4 });
    const s = createSchedule(c, 2, 4);
    for (const e of [0, 1]) s.afterEpoch(e, 1);
    s.afterBatch(2, 0);
    expect(s.sharpness).toEqual([1, 0]);
    const resumed = createSchedule(c, 2, 4, throughFile(s));
    expect(resumed.afterBatch(2, 1)).toBe(false);
    expect(resumed.sharpness).toEqual([1, 0]);
  });

  it('refuses a checkpoint of another schedule, layer count or config', () => {
    const simple = config({ schedule: 'simple', start_epoch: 0, steps: 2 });
    const s = createSchedule(simple, 2, 3);
    s.afterEpoch(0, 1);
    const saved = throughFile(s);
    expect(() => createSchedule(config({ schedule: 'adaptive' }), 2, 3, saved)).toThrow(
      "checkpoint: sharpening state is for schedule 'simple' but the config says 'adaptive'",
    );
    expect(() => createSchedule(simple, 3, 3, saved)).toThrow(
      'checkpoint: sharpening state has 2 layers but the model has 3 spiking layers',
    );
    expect(() => createSchedule(config({ schedule: 'simple', start_epoch: 0, steps: 4 }), 2, 3, saved)).toThrow(InputError);
    const windows = config({ schedule: 'scheduled', layers: [[0, 2], [2, 4]] });
    const sch = createSchedule(windows, 2, 3);
    sch.afterBatch(0, 0);
    expect(() => createSchedule(windows, 2, 4, throughFile(sch))).toThrow(/batch size changed/);
    expect(() => createSchedule(simple, 2, 3, { ...saved, sharpness: [0.5, 1.5] })).toThrow(InputError);
  });

  it('rejects a non-positive layer or batch count', () => {
    const c = config({ schedule: 'simple' });
    expect(() => createSchedule(c, 0, 3)).toThrow(RangeError);
    expect(() => createSchedule(c, 2, 0)).toThrow(RangeError);
  });
});
