/**
 * `whetstone compare`: the key figures of several runs side by side, from each run's summary.json
 * (and evaluation.json for the energy estimate). A run that has not ended has no summary and is
 * refused by name.
 */
import { InputError } from '../errors.js';
import { duration, fixed, int, joules, pct, pp } from '../util/format.js';
import type { Table } from './figures.js';
import { readRun } from './run.js';

/** One run's row; also the object `compare --json` prints (keys documented in docs/report.md). */
export interface ComparedRun {
  run_dir: string;
  run: string;
  experiment: string;
  dataset: string;
  backend: string;
  epochs: number;
  sharpening_finished: boolean;
  unsharpened_accuracy: number | null;
  spiking_accuracy: number | null;
  accuracy_drop: number | null;
  /** The simulator's figures are null for a run made before train wrote snn/. */
  simulator_accuracy: number | null;
  agrees_with_tfjs: boolean | null;
  neurons: number | null;
  spikes_per_inference: number | null;
  synaptic_events_per_inference: number | null;
  ann_macs_per_inference: number | null;
  events_per_mac: number | null;
  /** Estimated joules per inference by platform (evaluation.json's energy rows); null without evaluation.json. */
  energy_per_inference: Record<string, number> | null;
  train_seconds: number;
  images_per_second: number | null;
}

/** Reads each run's figures; `shown` names the directories in messages (as the user typed them). */
export function compareRuns(dirs: readonly string[], shown: readonly string[] = dirs): ComparedRun[] {
  if (dirs.length === 0) throw new InputError('compare needs at least one run directory');
  return dirs.map((dir, i) => {
    const name = shown[i] ?? dir;
    const run = readRun(dir, name);
    const s = run.summary;
    if (s === null) throw new InputError(`${name}: the run has not ended (no summary.json)`, `finish it with: whetstone train --resume ${name}`);
    const energy = run.evaluation === null ? null : Object.fromEntries(run.evaluation.energy.rows.map((r) => [r.platform, r.joules_per_inference]));
    return {
      run_dir: run.dir,
      run: run.id,
      experiment: s.experiment,
      dataset: s.dataset,
      backend: s.backend,
      epochs: s.epochs,
      sharpening_finished: s.sharpening_finished,
      unsharpened_accuracy: s.unsharpened_accuracy,
      spiking_accuracy: s.spiking_accuracy,
      accuracy_drop: s.accuracy_drop,
      simulator_accuracy: s.snn?.accuracy ?? null,
      agrees_with_tfjs: s.snn?.agrees_with_tfjs ?? null,
      neurons: s.snn?.neurons ?? null,
      spikes_per_inference: s.snn?.spikes_per_inference ?? null,
      synaptic_events_per_inference: s.snn?.synaptic_events_per_inference ?? null,
      ann_macs_per_inference: s.snn?.ann_macs_per_inference ?? null,
      events_per_mac: s.snn !== undefined && s.snn.ann_macs_per_inference > 0 ? s.snn.synaptic_events_per_inference / s.snn.ann_macs_per_inference : null,
      energy_per_inference: energy,
      train_seconds: s.train_seconds,
      images_per_second: s.images_per_second,
    };
  });
}

/** The platform whose estimate the table shows (the first neuromorphic row of evaluation.json). */
const TABLE_ENERGY_PLATFORM = 'Loihi';

export function compareTable(runs: readonly ComparedRun[]): Table {
  return {
    header: ['run', 'dataset', 'epochs', 'unsharpened', 'spiking', 'drop', 'simulator', 'spikes/inf', 'events/MAC', `${TABLE_ENERGY_PLATFORM} energy`, 'training'],
    rows: runs.map((r) => [
      r.run,
      r.dataset,
      `${r.epochs}${r.sharpening_finished ? '' : ' (unfinished)'}`,
      pct(r.unsharpened_accuracy),
      pct(r.spiking_accuracy),
      pp(r.accuracy_drop),
      `${pct(r.simulator_accuracy)}${r.agrees_with_tfjs === false ? ' (differs)' : ''}`,
      fixed(r.spikes_per_inference),
      fixed(r.events_per_mac, 3),
      r.energy_per_inference?.[TABLE_ENERGY_PLATFORM] === undefined ? 'n/a' : joules(r.energy_per_inference[TABLE_ENERGY_PLATFORM]),
      `${duration(r.train_seconds)}, ${int(r.images_per_second)} img/s`,
    ]),
    numeric: [2, 3, 4, 5, 6, 7, 8, 9],
  };
}
