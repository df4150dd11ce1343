/**
 * Sharpness of every spiking layer over training, for the staircase chart.
 *
 * metrics.jsonl records sharpness once per epoch, which hides a per-batch schedule's ramps. Every
 * schedule is a pure state machine of (epoch, batch, epoch loss) (src/sharpen), and the run records
 * the config, the batches per epoch (train images / batch size) and every epoch's loss, so the
 * report replays the schedule batch by batch — and uses the replay only if it reproduces the
 * recorded sharpness at the end of every epoch exactly. Otherwise (a resumed run whose schedule was
 * changed, an interrupted run without summary.json) it draws the recorded per-epoch values.
 */
import type { ExperimentConfig } from '../config/schema.js';
import { createSchedule } from '../sharpen/index.js';
import type { EpochRecord, RunRecord } from './run.js';

export interface SharpnessPoint {
  /** Spiking layer, 0 = input side. */
  readonly layer: number;
  /** Training progress in epochs: 2.5 = halfway through the third epoch. */
  readonly epoch: number;
  readonly sharpness: number;
}

export interface SharpnessTrace {
  /** `batches`: replayed per batch and checked against every epoch's record; `epochs`: the records themselves. */
  readonly resolution: 'batches' | 'epochs';
  readonly layers: number;
  readonly points: readonly SharpnessPoint[];
}

/** Drops the points in the middle of straight segments (a 400-batch ramp needs only its two ends). */
function thin(all: readonly { x: number; y: number }[]): { x: number; y: number }[] {
  // The last batch of an epoch and the epoch's end can be the same point.
  const points = all.filter((p, i) => i === 0 || Math.abs(all[i - 1]!.x - p.x) >= 1e-9 || all[i - 1]!.y !== p.y);
  const kept: { x: number; y: number }[] = [];
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    const prev = points[i - 1];
    const next = points[i + 1];
    if (prev === undefined || next === undefined) {
      kept.push(p);
      continue;
    }
    const dx1 = p.x - prev.x;
    const dx2 = next.x - p.x;
    const straight = dx1 > 1e-9 && dx2 > 1e-9 && Math.abs((p.y - prev.y) / dx1 - (next.y - p.y) / dx2) < 1e-6;
    if (!straight) kept.push(p);
  }
  return kept;
}

function fromRecords(metrics: readonly EpochRecord[], layers: number): SharpnessTrace {
  const points: SharpnessPoint[] = [];
  for (let l = 0; l < layers; l++) {
    // A schedule starts with every layer at 0 (src/sharpen: every schedule's initial state).
    points.push({ layer: l, epoch: 0, sharpness: 0 });
    for (const m of metrics) points.push({ layer: l, epoch: m.epoch, sharpness: m.sharpness[l] ?? Number.NaN });
  }
  return { resolution: 'epochs', layers, points };
}

/** Replays the schedule batch by batch; null if it cannot be replayed or does not match the record. */
function replay(config: ExperimentConfig, metrics: readonly EpochRecord[], layers: number, batchesPerEpoch: number): SharpnessPoint[] | null {
  if (metrics.some((m) => m.loss === null)) return null;
  let schedule;
  try {
    schedule = createSchedule(config.sharpening, layers, batchesPerEpoch);
  } catch {
    return null;
  }
  const raw: { x: number; values: readonly number[] }[] = [{ x: 0, values: schedule.sharpness }];
  for (const m of metrics) {
    const e = m.epoch - 1;
    for (let b = 0; b < batchesPerEpoch; b++) {
      if (schedule.afterBatch(e, b)) raw.push({ x: e + (b + 1) / batchesPerEpoch, values: schedule.sharpness });
    }
    schedule.afterEpoch(e, m.loss!);
    const values = schedule.sharpness;
    if (values.length !== m.sharpness.length || values.some((v, i) => v !== m.sharpness[i])) return null;
    raw.push({ x: m.epoch, values });
  }
  const points: SharpnessPoint[] = [];
  for (let l = 0; l < layers; l++) {
    // Sharpness holds between changes: a value held for longer than one batch ends in a vertical step
    // at the batch after which it changed, so the line steps rather than slopes.
    const series: { x: number; y: number }[] = [];
    raw.forEach((r, i) => {
      const prev = raw[i - 1];
      const y = r.values[l]!;
      if (prev !== undefined && prev.values[l] !== y && r.x - prev.x > 1 / batchesPerEpoch + 1e-9) series.push({ x: r.x, y: prev.values[l]! });
      series.push({ x: r.x, y });
    });
    for (const p of thin(series)) points.push({ layer: l, epoch: p.x, sharpness: p.y });
  }
  return points;
}

/**
 * The sharpness trace of a run: replayed per batch when `trainImages` is known and the replay
 * matches every recorded epoch, else the per-epoch records.
 */
export function sharpnessTrace(config: ExperimentConfig, metrics: readonly EpochRecord[], trainImages: number | null): SharpnessTrace {
  const layers = Math.max(0, ...metrics.map((m) => m.sharpness.length));
  if (layers === 0 || metrics.some((m) => m.sharpness.length !== layers)) return fromRecords(metrics, layers);
  if (trainImages !== null && trainImages > 0) {
    const replayed = replay(config, metrics, layers, Math.ceil(trainImages / config.training.batch_size));
    if (replayed !== null) return { resolution: 'batches', layers, points: replayed };
  }
  return fromRecords(metrics, layers);
}

/** The sharpness trace of a run directory's records. */
export function runSharpness(run: RunRecord): SharpnessTrace {
  return sharpnessTrace(run.config, run.metrics, run.summary?.train_images ?? null);
}
