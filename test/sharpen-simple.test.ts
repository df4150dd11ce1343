import { describe, expect, it } from 'vitest';
import { sharpeningSchema } from '../src/config/schema.js';
import { createSchedule, plannedEpochs, type SharpeningSchedule } from '../src/sharpen/index.js';

const simple = (extra: Record<string, unknown>) => sharpeningSchema.parse({ schedule: 'simple', ...extra });

/** Runs epochs [from, to) and records the sharpness after every epoch; checks each call's "changed" flag. */
function epochEnds(s: SharpeningSchedule, from: number, to: number, batches: number): number[][] {
  const out: number[][] = [];
  for (let e = from; e < to; e++) {
    for (let b = 0; b < batches; b++) {
      const before = s.sharpness;
      expect(s.afterBatch(e, b)).toBe(before.some((v, i) => v !== s.sharpness[i]));
    }
    const before = s.sharpness;
    expect(s.afterEpoch(e, 1)).toBe(before.some((v, i) => v !== s.sharpness[i]));
    out.push([...s.sharpness]);
  }
  return out;
}

describe('simple schedule, per epoch', () => {
  it('bottom_up climbs a staircase: layer 0 reaches 1 before layer 1 starts', () => {
    const s = createSchedule(simple({ order: 'bottom_up', start_epoch: 2, steps: 4, per: 'epoch' }), 3, 5);
    const t = epochEnds(s, 0, 16, 5);
    expect(t[0]).toEqual([0, 0, 0]);
    expect(t[1]).toEqual([0, 0, 0]);
    expect(t[2]).toEqual([0.25, 0, 0]); // first step at the end of start_epoch
    expect(t[4]).toEqual([0.75, 0, 0]);
    expect(t[5]).toEqual([1, 0, 0]);
    expect(t[6]).toEqual([1, 0.25, 0]);
    expect(t[9]).toEqual([1, 1, 0]);
    expect(t[12]).toEqual([1, 1, 0.75]);
    expect(t[13]).toEqual([1, 1, 1]);
    expect(t[15]).toEqual([1, 1, 1]);
    for (const row of t) {
      for (let i = 1; i < row.length; i++) if (row[i]! > 0) expect(row[i - 1]).toBe(1);
    }
    expect(s.finished).toBe(true);
    expect(plannedEpochs(simple({ order: 'bottom_up', start_epoch: 2, steps: 4, per: 'epoch' }), 3, 5)).toBe(14);
  });

  it('uniform keeps every layer equal and ends at exactly 1', () => {
    const s = createSchedule(simple({ order: 'uniform', start_epoch: 0, steps: 3, per: 'epoch' }), 4, 2);
    const t = epochEnds(s, 0, 4, 2);
    expect(t[0]).toEqual([1 / 3, 1 / 3, 1 / 3, 1 / 3]);
    expect(t[1]).toEqual([2 / 3, 2 / 3, 2 / 3, 2 / 3]);
    expect(t[2]).toEqual([1, 1, 1, 1]);
    for (const row of t) expect(new Set(row).size).toBe(1);
  });

  it('does not move on batches when stepping per epoch', () => {
    const s = createSchedule(simple({ start_epoch: 0, per: 'epoch' }), 2, 10);
    for (let b = 0; b < 10; b++) expect(s.afterBatch(0, b)).toBe(false);
    expect(s.sharpness).toEqual([0, 0]);
  });
});

describe('simple schedule, per batch', () => {
  it('uniform takes one step per batch from the first batch of start_epoch', () => {
    const config = simple({ order: 'uniform', start_epoch: 1, steps: 10, per: 'batch' });
    const s = createSchedule(config, 2, 4);
    for (let b = 0; b < 4; b++) s.afterBatch(0, b);
    expect(s.afterEpoch(0, 1)).toBe(false);
    expect(s.sharpness).toEqual([0, 0]);
    const t = epochEnds(s, 1, 5, 4).map((r) => r[0]);
    const fresh = createSchedule(config, 2, 4);
    fresh.afterBatch(1, 0);
    expect(fresh.sharpness).toEqual([0.1, 0.1]);
    // epoch 1 ended after 4 steps, epoch 2 after 8; the 10th step is batch 1 of epoch 3.
    expect(t[0]).toBeCloseTo(0.4, 12);
    expect(t[1]).toBeCloseTo(0.8, 12);
    expect(t[2]).toBe(1);
    expect(plannedEpochs(config, 2, 4)).toBe(4);
  });

  it('bottom_up finishes layer by layer, at exactly 1 for every steps × layers', () => {
    for (let layers = 1; layers <= 6; layers++) {
      for (let steps = 1; steps <= 9; steps++) {
        const s = createSchedule(simple({ order: 'bottom_up', start_epoch: 0, steps, per: 'batch' }), layers, 7);
        let batch = 0;
        for (let i = 0; i < layers; i++) {
          for (let k = 0; k < steps; k++, batch++) s.afterBatch(Math.floor(batch / 7), batch % 7);
          const v = s.sharpness;
          expect(v[i]).toBe(1);
          if (i + 1 < layers) expect(v[i + 1]).toBe(0);
        }
        expect(s.finished).toBe(true);
        expect(s.afterBatch(99, 0)).toBe(false);
      }
    }
  });

  it('reports its phase', () => {
    const s = createSchedule(simple({ start_epoch: 1, steps: 2, per: 'batch', order: 'uniform' }), 1, 3);
    expect(s.phase).toBe('training');
    s.afterBatch(0, 0);
    expect(s.phase).toBe('training');
    s.afterBatch(1, 0);
    expect(s.phase).toBe('sharpening');
    s.afterBatch(1, 1);
    expect(s.phase).toBe('finished');
  });
});

describe('plannedEpochs for simple', () => {
  it('is the first epoch count at which the schedule has finished', () => {
    for (const order of ['bottom_up', 'uniform'] as const) {
      for (const per of ['epoch', 'batch'] as const) {
        for (const batches of [1, 3, 8]) {
          const config = simple({ order, per, start_epoch: 3, steps: 5 });
          const planned = plannedEpochs(config, 3, batches)!;
          const s = createSchedule(config, 3, batches);
          epochEnds(s, 0, planned - 1, batches);
          expect(s.finished).toBe(false);
          epochEnds(s, planned - 1, planned, batches);
          expect(s.finished).toBe(true);
        }
      }
    }
  });
});
