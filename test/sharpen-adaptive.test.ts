import { describe, expect, it } from 'vitest';
import { sharpeningSchema } from '../src/config/schema.js';
import { createSchedule, type SharpeningSchedule } from '../src/sharpen/index.js';

const adaptive = (extra: Record<string, unknown> = {}) => sharpeningSchema.parse({ schedule: 'adaptive', ...extra });

interface Step {
  epoch: number;
  batch: number; // -1 for the end of the epoch
  sharpness: number[];
}

/** Trains epochs [from, to) with loss(epoch), recording the sharpness after every call. */
function run(s: SharpeningSchedule, from: number, to: number, batches: number, loss: (e: number) => number): Step[] {
  const out: Step[] = [];
  for (let epoch = from; epoch < to; epoch++) {
    for (let batch = 0; batch < batches; batch++) {
      const before = s.sharpness;
      expect(s.afterBatch(epoch, batch)).toBe(before.some((v, i) => v !== s.sharpness[i]));
      out.push({ epoch, batch, sharpness: [...s.sharpness] });
    }
    expect(s.afterEpoch(epoch, loss(epoch))).toBe(false);
    out.push({ epoch, batch: -1, sharpness: [...s.sharpness] });
  }
  return out;
}

const atEpochEnd = (t: Step[], epoch: number) => t.find((x) => x.epoch === epoch && x.batch === -1)!.sharpness;
const flat = () => 1;

describe('adaptive schedule: when to sharpen', () => {
  it('waits min_init_epochs, then starts once the loss has not improved for more than `patience` epochs', () => {
    const s = createSchedule(adaptive(), 2, 10); // min_init_epochs 10, patience 1
    const t = run(s, 0, 11, 10, flat);
    for (const x of t) expect(x.sharpness).toEqual([0, 0]);
    // Epoch 9 is the first considered (no improvement: 1), epoch 10 makes it 2 > patience.
    expect(s.phase).toBe('sharpening');
    s.afterBatch(11, 0);
    expect(s.sharpness).toEqual([0.025, 0]);
  });

  it('honours a larger min_init_epochs and patience', () => {
    const s = createSchedule(adaptive({ min_init_epochs: 3, patience: 3 }), 1, 2);
    run(s, 0, 6, 2, flat); // considered from epoch 2: counts 1, 2, 3 at epochs 2..4, 4 > 3 at epoch 5
    expect(s.sharpness).toEqual([0]);
    expect(s.phase).toBe('sharpening');
    const early = createSchedule(adaptive({ min_init_epochs: 3, patience: 3 }), 1, 2);
    run(early, 0, 5, 2, flat);
    expect(early.phase).toBe('training');
  });

  it('never starts while the loss keeps improving significantly', () => {
    const s = createSchedule(adaptive({ min_init_epochs: 2 }), 2, 5);
    run(s, 0, 40, 5, (e) => 0.8 ** e); // −20% each epoch ≥ sig_decrease
    expect(s.sharpness).toEqual([0, 0]);
    expect(s.phase).toBe('training');
  });

  it('pauses when the loss rises by sig_increase and resumes after it settles', () => {
    const B = 4;
    const s = createSchedule(adaptive({ min_init_epochs: 1, patience: 0 }), 2, B);
    run(s, 0, 2, B, flat); // epoch 0: improved vs 1e6; epoch 1: no improvement → start
    expect(s.phase).toBe('sharpening');
    run(s, 2, 3, B, () => 1.14); // +14% < 15%: keep sharpening
    expect(s.sharpness[0]).toBeCloseTo(0.25, 12);
    expect(s.phase).toBe('sharpening');
    run(s, 3, 4, B, () => 1.2); // +20% vs reference 1 (≥ 15%): pause
    expect(s.phase).toBe('paused');
    const paused = s.sharpness;
    expect(paused[0]).toBeCloseTo(0.5, 12);
    const t = run(s, 4, 5, B, () => 1.2); // flat vs new reference 1.2: no improvement → resume at the end
    for (const x of t) expect(x.sharpness).toEqual(paused);
    expect(s.phase).toBe('sharpening');
    run(s, 5, 6, B, () => 1.2);
    expect(s.sharpness[0]).toBeCloseTo(0.75, 12);
  });

  it('treats a non-finite loss as a significant rise and keeps a finite reference', () => {
    const s = createSchedule(adaptive({ min_init_epochs: 1, patience: 0 }), 1, 2);
    run(s, 0, 2, 2, flat);
    expect(s.phase).toBe('sharpening');
    run(s, 2, 3, 2, () => Number.NaN);
    expect(s.phase).toBe('paused');
    expect(s.toJSON()).toMatchObject({ schedule: 'adaptive', referenceLoss: 1 });
    run(s, 3, 4, 2, flat); // flat against reference 1, count 1 > patience 0 → resume
    expect(s.phase).toBe('sharpening');
  });
});

describe('adaptive schedule: how fast', () => {
  it('slows to cz_rate in the critical zone and never overshoots 1', () => {
    const B = 4;
    const s = createSchedule(adaptive({ min_init_epochs: 1, patience: 0 }), 1, B);
    run(s, 0, 2, B, flat);
    const t = run(s, 2, 10, B, flat).filter((x) => x.batch >= 0).map((x) => x.sharpness[0]!);
    const deltas = t.map((v, i) => v - (i === 0 ? 0 : t[i - 1]!));
    const critical = t.findIndex((v) => v >= 0.75);
    expect(critical).toBeGreaterThanOrEqual(11);
    for (let i = 0; i <= critical; i++) expect(deltas[i]).toBeCloseTo(0.25 / B, 12);
    const last = t.indexOf(1);
    for (let i = critical + 1; i < last; i++) expect(deltas[i]).toBeCloseTo(0.126 / B, 12);
    expect(last).toBe(critical + 8); // 0.25 more at 0.0315 per batch: 7.9 batches
    expect(Math.max(...t)).toBe(1);
    expect(s.finished).toBe(true);
  });

  it('scales the first layer by first_layer_relative_rate, bottom_up only', () => {
    const s = createSchedule(adaptive({ min_init_epochs: 1, patience: 0, first_layer_relative_rate: 0.5 }), 2, 5);
    run(s, 0, 2, 5, flat);
    s.afterBatch(2, 0);
    expect(s.sharpness).toEqual([0.025, 0]);
    const u = createSchedule(adaptive({ order: 'uniform', min_init_epochs: 1, patience: 0, first_layer_relative_rate: 0.5 }), 2, 5);
    run(u, 0, 2, 5, flat);
    u.afterBatch(2, 0);
    expect(u.sharpness).toEqual([0.05, 0.05]);
  });

  it('finishes at most one layer per epoch bottom_up, waiting after a layer completes', () => {
    const B = 4;
    // rate 1 and first layer ×2: layer 0 completes after 2 batches; the rest of that epoch must idle.
    const config = adaptive({ min_init_epochs: 1, patience: 0, rate: 1, critical: 1, first_layer_relative_rate: 2 });
    const s = createSchedule(config, 3, B);
    run(s, 0, 2, B, flat);
    const t = run(s, 2, 6, B, flat);
    const epoch2 = t.filter((x) => x.epoch === 2).map((x) => x.sharpness);
    expect(epoch2).toEqual([[0.5, 0, 0], [1, 0, 0], [1, 0, 0], [1, 0, 0], [1, 0, 0]]);
    expect(t.find((x) => x.epoch === 3 && x.batch === 0)!.sharpness).toEqual([1, 0.25, 0]);
    expect(atEpochEnd(t, 3)).toEqual([1, 1, 0]);
    expect(atEpochEnd(t, 4)).toEqual([1, 1, 1]);
    expect(s.phase).toBe('finished');
  });

  it('finishes on a flat loss with the defaults, every layer at exactly 1, one per epoch at most', () => {
    const B = 10;
    const s = createSchedule(adaptive(), 4, B);
    const t = run(s, 0, 60, B, flat);
    let previous = [0, 0, 0, 0];
    for (let e = 0; e < 60; e++) {
      const now = atEpochEnd(t, e);
      const newlyDone = now.filter((v, i) => v === 1 && previous[i] !== 1).length;
      expect(newlyDone).toBeLessThanOrEqual(1);
      previous = now;
    }
    // Starts in epoch 11; each layer: 3 epochs at rate 0.25, 2 at cz_rate 0.126 → 5 epochs a layer.
    expect(atEpochEnd(t, 15)).toEqual([1, 0, 0, 0]);
    expect(atEpochEnd(t, 29)[3]).toBeLessThan(1);
    expect(atEpochEnd(t, 30)).toEqual([1, 1, 1, 1]);
    expect(s.finished).toBe(true);
    expect(s.afterBatch(60, 0)).toBe(false);
  });

  it('uniform keeps all layers equal and finishes at exactly 1', () => {
    const s = createSchedule(adaptive({ order: 'uniform', min_init_epochs: 1, patience: 0 }), 3, 7);
    const t = run(s, 0, 12, 7, flat);
    for (const x of t) expect(new Set(x.sharpness).size).toBe(1);
    expect(atEpochEnd(t, 4)[0]).toBeLessThan(0.76);
    expect(atEpochEnd(t, 7)).toEqual([1, 1, 1]);
    expect(s.finished).toBe(true);
  });
});
