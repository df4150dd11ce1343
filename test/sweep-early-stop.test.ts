/**
 * Early stopping: the rule as a pure function of the learning curves, and a real local sweep in
 * which the run that trails is interrupted (SIGINT: it checkpoints), recorded as stopped early, and
 * left stopped by a rerun.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runsToStop } from '../src/sweep/early-stop.js';
import type { SweepSummary } from '../src/sweep/summary.js';
import { cli } from './helpers/cli.js';
import { checkpointedEpochs, requireFreshBuild, TINY_BASE } from './helpers/sweep.js';

const rule = { trails_best_by: 0.05, min_epoch: 2 };

describe('runsToStop', () => {
  it('stops a run that trails the best at the same epoch by more than the margin', () => {
    const curves = new Map([
      ['a', [0.5, 0.8, 0.9]],
      ['b', [0.5, 0.7]],
      ['c', [0.9, 0.78]],
    ]);
    expect(runsToStop(curves, ['b', 'c'], rule).map((d) => [d.id, d.epoch])).toEqual([['b', 2]]);
    expect(runsToStop(curves, ['b'], rule)[0]!.reason).toMatch(/70\.00% at epoch 2, 10\.00 points below a/);
  });

  it('judges no run before min_epoch, nor the best, nor against epochs no other run has reached', () => {
    expect(runsToStop(new Map([['a', [0.9]], ['b', [0.1]]]), ['b'], rule)).toEqual([]);
    expect(runsToStop(new Map([['a', [0.9]], ['b', [0.1, 0.1, 0.1]]]), ['b'], rule)).toEqual([]);
    // A run ahead of the others is judged at the epochs they have reached.
    expect(runsToStop(new Map([['a', [0.9, 0.9]], ['b', [0.1, 0.1, 0.1]]]), ['b'], rule).map((d) => d.epoch)).toEqual([2]);
    expect(runsToStop(new Map([['a', [0.9, 0.9]]]), ['a'], rule)).toEqual([]);
  });
});

let dir: string | undefined;
afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

describe('a local sweep with early stopping', () => {
  it('interrupts the trailing run, records it as stopped, and a rerun leaves it stopped', async () => {
    requireFreshBuild();
    dir = mkdtempSync(join(tmpdir(), 'whetstone-early-'));
    // Forty epochs, not TINY_BASE's four: an epoch of 270 images takes about 0.1 s, so a four-epoch run
    // can finish in the time between its first epoch and the SIGINT (the poll is every 250 ms), and
    // is then honestly recorded as done. With forty the signal lands dozens of epochs early.
    writeFileSync(join(dir, 'base.yaml'), TINY_BASE.replace('epochs: 4', 'epochs: 40').replace('start_epoch: 2', 'start_epoch: 38'));
    // 4.0 learns, then a rate of 1e-4 leaves the network where it started: it trails from epoch 1.
    // One at a time, so the second is judged against the finished first at its first epoch.
    writeFileSync(join(dir, 'early.yaml'), 'base: base.yaml\ngrid:\n  training.optimizer.learning_rate: [4.0, 0.0001]\nearly_stopping: {trails_best_by: 0.05}\nbudget: {max_concurrent: 1}\n');
    const r = await cli(['sweep', join(dir, 'early.yaml'), '--out', dir, '--backend', 'wasm', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as SweepSummary;
    expect(summary.counts, r.stderr).toMatchObject({ done: 1, stopped: 1 });
    const stopped = summary.runs.find((r) => r.status === 'stopped')!;
    expect(stopped.set['training.optimizer.learning_rate']).toBe(0.0001);
    expect(stopped.stopped_at_epoch).toBe(1);
    expect(stopped.message).toMatch(/points below/);
    expect(r.stderr).toMatch(new RegExp(`run ${stopped.id}: stopping early`));
    // Interrupted, not killed: its last epoch is checkpointed, and it has no summary.
    expect(checkpointedEpochs(stopped.run_dir!)).toBeGreaterThanOrEqual(1);
    expect(existsSync(join(stopped.run_dir!, 'summary.json'))).toBe(false);

    const again = await cli(['sweep', join(dir, 'early.yaml'), '--out', dir, '--backend', 'wasm', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/training|resuming/);
    expect((JSON.parse(again.stdout) as SweepSummary).counts).toMatchObject({ done: 1, stopped: 1 });
    expect(JSON.parse(readFileSync(join(dir, 'early', 'sweep.json'), 'utf8'))).toEqual(JSON.parse(again.stdout));
  }, 120_000);
});
