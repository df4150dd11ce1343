import { describe, expect, it } from 'vitest';
import { sharpeningSchema } from '../src/config/schema.js';
import { InputError } from '../src/errors.js';
import { createSchedule, plannedEpochs, scheduleWindows, type SharpeningSchedule } from '../src/sharpen/index.js';

const scheduled = (extra: Record<string, unknown>) => {
  const c = sharpeningSchema.parse({ schedule: 'scheduled', ...extra });
  if (c.schedule !== 'scheduled') throw new Error('unreachable');
  return c;
};

/** Sharpness after every batch of epochs [from, to), as trace[epoch - from][batch]; checks "changed" flags. */
function trace(s: SharpeningSchedule, from: number, to: number, batches: number): number[][][] {
  const out: number[][][] = [];
  for (let e = from; e < to; e++) {
    const rows: number[][] = [];
    for (let b = 0; b < batches; b++) {
      const before = s.sharpness;
      expect(s.afterBatch(e, b)).toBe(before.some((v, i) => v !== s.sharpness[i]));
      rows.push([...s.sharpness]);
    }
    const before = s.sharpness;
    expect(s.afterEpoch(e, 1)).toBe(before.some((v, i) => v !== s.sharpness[i]));
    out.push(rows);
  }
  return out;
}

describe('generated windows', () => {
  it('follow start, duration and intermission (bottom_up)', () => {
    const config = scheduled({ start: 2, duration: 3, intermission: 1 });
    expect(scheduleWindows(config, 3)).toEqual([
      [2, 5],
      [6, 9],
      [10, 13],
    ]);
    expect(plannedEpochs(config, 3, 10)).toBe(13);
    expect(scheduleWindows(scheduled({ start: 0, duration: 2 }), 3)).toEqual([
      [0, 2],
      [2, 4],
      [4, 6],
    ]);
  });

  it('share the first window when uniform', () => {
    const config = scheduled({ order: 'uniform', start: 2, duration: 3, intermission: 1 });
    expect(scheduleWindows(config, 3)).toEqual([
      [2, 5],
      [2, 5],
      [2, 5],
    ]);
    expect(plannedEpochs(config, 3, 10)).toBe(5);
    const t = trace(createSchedule(config, 3, 4), 0, 6, 4);
    for (const epoch of t) for (const row of epoch) expect(new Set(row).size).toBe(1);
    expect(t[2]![0]![0]).toBe(1 / 12);
    expect(t[4]![3]).toEqual([1, 1, 1]);
  });

  it('sharpen each layer linearly from 0 at its start to exactly 1 at the end of stop − 1', () => {
    const B = 4;
    const s = createSchedule(scheduled({ start: 2, duration: 3, intermission: 1 }), 3, B);
    const t = trace(s, 0, 14, B);
    expect(t[1]![3]).toEqual([0, 0, 0]); // nothing before epoch 2
    expect(t[2]![0]).toEqual([1 / 12, 0, 0]); // first batch of the window
    expect(t[3]![1]![0]).toBe(6 / 12);
    expect(t[4]![2]![0]).toBe(11 / 12);
    expect(t[4]![3]).toEqual([1, 0, 0]); // last batch of epoch stop − 1: exactly 1
    expect(t[5]![3]).toEqual([1, 0, 0]); // intermission
    expect(t[6]![0]).toEqual([1, 1 / 12, 0]);
    expect(t[8]![3]).toEqual([1, 1, 0]);
    expect(t[9]![3]).toEqual([1, 1, 0]);
    expect(t[12]![2]![2]).toBe(11 / 12);
    expect(t[12]![3]).toEqual([1, 1, 1]);
    expect(s.finished).toBe(true);
    // Monotone, and equal steps of 1/(duration·B) inside a window.
    const layer0 = t.flat().map((r) => r[0]!);
    for (let i = 1; i < layer0.length; i++) expect(layer0[i]).toBeGreaterThanOrEqual(layer0[i - 1]!);
  });

  it('says when it rests between windows', () => {
    const s = createSchedule(scheduled({ start: 1, duration: 1, intermission: 1 }), 2, 2);
    expect(s.phase).toBe('training');
    trace(s, 0, 1, 2);
    expect(s.phase).toBe('sharpening');
    trace(s, 1, 2, 2);
    expect(s.sharpness).toEqual([1, 0]);
    expect(s.phase).toBe('paused');
    trace(s, 2, 3, 2);
    expect(s.phase).toBe('sharpening');
    trace(s, 3, 4, 2);
    expect(s.phase).toBe('finished');
  });
});

describe('explicit windows', () => {
  it('may start at epoch 0 (batches per epoch are known up front) and overlap', () => {
    const s = createSchedule(scheduled({ layers: [[0, 1], [0, 3]] }), 2, 3);
    const t = trace(s, 0, 3, 3);
    expect(t[0]![0]).toEqual([1 / 3, 1 / 9]);
    expect(t[0]![2]).toEqual([1, 3 / 9]);
    expect(t[1]![0]).toEqual([1, 4 / 9]);
    expect(t[2]![1]).toEqual([1, 8 / 9]);
    expect(t[2]![2]).toEqual([1, 1]);
    expect(s.finished).toBe(true);
  });

  it('set layers past their stop epoch to 1, even if batches were skipped', () => {
    const s = createSchedule(scheduled({ layers: [[1, 2], [3, 5]] }), 2, 5);
    s.afterBatch(1, 0);
    expect(s.sharpness).toEqual([0.2, 0]);
    expect(s.afterEpoch(1, 1)).toBe(true);
    expect(s.sharpness).toEqual([1, 0]);
    expect(s.afterEpoch(4, 1)).toBe(true);
    expect(s.sharpness).toEqual([1, 1]);
  });

  it('rejects a schedule whose length differs from the number of spiking layers', () => {
    const config = scheduled({ layers: [[1, 2], [2, 3]] });
    expect(() => createSchedule(config, 3, 10)).toThrow(InputError);
    expect(() => createSchedule(config, 3, 10)).toThrow(
      'sharpening.layers: has 2 windows but the model has 3 spiking layers',
    );
    expect(() => plannedEpochs(config, 1, 10)).toThrow('has 2 windows but the model has 1 spiking layer');
    expect(plannedEpochs(config, 2, 10)).toBe(3);
  });
});
