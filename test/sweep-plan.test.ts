/**
 * A sweep file becomes its runs: grid × random × seeds, deterministic ids, every run validated by
 * the experiment schema; and every way a sweep file can be wrong is one located line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandSweep, gridPoints } from '../src/sweep/expand.js';
import { loadSweep } from '../src/sweep/load.js';
import { sweepSchema } from '../src/sweep/schema.js';

let dir: string;
const BASE = `
name: tiny
seed: 3
dataset: {name: mnist, limit: {train: 256, test: 64}}
model:
  layers: [{type: flatten}, {type: dense, units: 16}, {type: spiking}]
training: {epochs: 3, batch_size: 64}
sharpening: {schedule: simple, start_epoch: 1, steps: 1, per: epoch}
`;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'whetstone-sweep-plan-'));
  writeFileSync(join(dir, 'base.yaml'), BASE);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sweepFile(text: string): string {
  const file = join(dir, `s${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, text);
  return file;
}
const message = (text: string) => {
  try {
    loadSweep(sweepFile(text), 'sweep.yaml', { cwd: dir });
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('the sweep loaded');
};

describe('expansion', () => {
  it('ranges and log ranges give their points, ends included', () => {
    expect(gridPoints({ range: [0.1, 0.3], step: 0.1 })).toEqual([0.1, 0.2, 0.3]);
    expect(gridPoints({ log_range: [0.01, 1], num: 3 })).toEqual([0.01, 0.1, 1]);
    expect(gridPoints({ range: [0, 1] })).toBeUndefined();
  });

  it('grid × random × seeds, the same runs every time, at most max_runs', () => {
    const sweep = sweepSchema.parse({
      base: 'x.yaml',
      grid: { 'training.epochs': [2, 3] },
      random: { samples: 2, seed: 5, params: { 'training.optimizer.learning_rate': { log_range: [0.1, 10] } } },
      seeds: [1, 2],
      budget: { max_runs: 7 },
    });
    const a = expandSweep(sweep);
    expect(a.runs).toHaveLength(7);
    expect(a.dropped).toBe(1);
    expect(a.runs.map((r) => r.assignments.map((x) => x.key))).toEqual(Array(7).fill(['training.epochs', 'training.optimizer.learning_rate', 'seed']));
    const rates = a.runs.map((r) => r.assignments[1]!.value as number);
    for (const r of rates) expect(r).toBeGreaterThanOrEqual(0.1), expect(r).toBeLessThanOrEqual(10);
    expect(new Set(rates).size).toBe(2); // two samples, each run with both seeds
    expect(expandSweep(sweep)).toEqual(a);
    const other = expandSweep({ ...sweep, random: { ...sweep.random!, seed: 6 } });
    expect(other.runs.map((r) => r.assignments[1]!.value)).not.toEqual(rates);
  });
});

describe('loadSweep', () => {
  it('validates every run and gives each a stable id and a folder under output_dir', () => {
    const text = 'base: base.yaml\ngrid:\n  model.layers.1.units: [8, 16]\nseeds: [1, 2]\noutput_dir: out\n';
    const s = loadSweep(sweepFile(text), 'sweep.yaml', { cwd: dir });
    expect(s.runs).toHaveLength(4);
    expect(s.runs.map((r) => [r.config.model.layers[1], r.config.seed])).toEqual([
      [{ type: 'dense', units: 8, use_bias: true }, 1],
      [{ type: 'dense', units: 8, use_bias: true }, 2],
      [{ type: 'dense', units: 16, use_bias: true }, 1],
      [{ type: 'dense', units: 16, use_bias: true }, 2],
    ]);
    expect(s.runs.every((r) => r.config.name === 'tiny')).toBe(true);
    expect(new Set(s.runs.map((r) => r.id)).size).toBe(4);
    expect(s.runs.map((r) => r.id)).toEqual(loadSweep(sweepFile(text), 'sweep.yaml', { cwd: dir }).runs.map((r) => r.id));
    expect(s.dir.startsWith(join(dir, 'out'))).toBe(true);
  });

  it('an inline base works like a file', () => {
    const s = loadSweep(sweepFile(`name: inline\nbase:\n  model: {layers: [{type: flatten}, {type: dense, units: 4}, {type: spiking}]}\nseeds: [4]\n`), 'sweep.yaml', { cwd: dir });
    expect(s.runs[0]!.config.seed).toBe(4);
    expect(s.name).toBe('inline');
  });

  it('refuses a key the experiment schema does not have, with a hint and its line', () => {
    expect(message('base: base.yaml\ngrid:\n  training.optimizer.learnin_rate: [1, 2]\n')).toBe(
      "sweep.yaml:3:3 grid.training.optimizer.learnin_rate: is not a key of the experiment schema: 'training.optimizer' has no 'learnin_rate' (did you mean 'learning_rate'?)",
    );
  });

  it('refuses an empty range', () => {
    expect(message('base: base.yaml\ngrid:\n  training.epochs: {range: [5, 2], step: 1}\n')).toBe('sweep.yaml:3:20 grid.training.epochs: range [5, 2] is empty (low > high)');
    expect(message('base: base.yaml\ngrid:\n  training.epochs: []\n')).toMatch(/^sweep\.yaml:3:20 grid\.training\.epochs: gives no values/);
  });

  it('refuses a run whose config the experiment schema rejects, at the swept value', () => {
    expect(message('base: base.yaml\ngrid:\n  training.epochs: [2, 0]\n')).toBe('sweep.yaml:3:20 grid.training.epochs: training.epochs=0: must be a positive integer');
  });

  it('refuses a base that fails validation, pointing into the base', () => {
    writeFileSync(join(dir, 'bad-base.yaml'), 'model:\n  layers: [{type: dens, units: 4}]\n');
    expect(message('base: bad-base.yaml\nseeds: [1]\n')).toMatch(/^bad-base\.yaml:2:19 model\.layers\.0\.type: unknown type 'dens'/);
    expect(message('base: nope.yaml\nseeds: [1]\n')).toMatch(/^sweep\.yaml:1:7 base: nope\.yaml: cannot read an experiment YAML file/);
  });

  it('refuses unknown sweep keys and a sweep that varies nothing', () => {
    expect(message('base: base.yaml\ngird: {}\n')).toMatch(/^sweep\.yaml:2:1 gird: unknown key \(did you mean 'grid'\?\)/);
    expect(message('base: base.yaml\n')).toMatch(/varies nothing/);
  });
});
