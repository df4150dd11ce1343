/**
 * Branching a run: `whetstone train NEW.yaml --from RUN_DIR` starts a new run from RUN_DIR's
 * checkpoint (after epoch N) instead of from scratch. That is only honest when NEW.yaml would have
 * trained epochs 1…N exactly as RUN_DIR did, so the result is the one a full run of NEW.yaml gives
 * (runs are deterministic for a seed and worker count). This module decides that, from the two
 * configs alone:
 *
 * - what shapes every epoch must be equal: seed, dataset, model, batch size, optimizer;
 * - what is a function of the epoch must agree on epochs 0…N−1: the learning rate and the
 *   augmentation (both pure functions of the epoch);
 * - the sharpening schedules are replayed side by side over those epochs (every batch, and every
 *   epoch with the loss RUN_DIR recorded) and must give the same sharpness after every call. The
 *   new schedule's state after the replay is what the branch continues with.
 */
import type { ExperimentConfig } from '../config/schema.js';
import { InputError } from '../errors.js';
import { createSchedule, type SharpeningSchedule } from '../sharpen/index.js';
import type { SharpeningCheckpoint } from '../sharpen/index.js';
import { augmentationAt } from './augment-phases.js';
import { trainingLearningRate } from './lr-schedule.js';

/** The first path at which two plain JSON values differ (`model.layers.3.units`), or undefined. */
export function firstDifference(a: unknown, b: unknown, path = ''): string | undefined {
  if (Object.is(a, b)) return undefined;
  const here = path === '' ? '(the whole value)' : path;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return here;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  for (const k of keys) {
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path === '' ? k : `${path}.${k}`);
    if (d !== undefined) return d;
  }
  return undefined;
}

export interface BranchCheck {
  /** The run directory, as messages name it. */
  readonly run: string;
  /** The run's config (its config.yaml). */
  readonly source: ExperimentConfig;
  /** The config of the new run. */
  readonly target: ExperimentConfig;
  /** Epochs in the run's checkpoint: the branch continues at epoch epochsDone + 1. */
  readonly epochsDone: number;
  /** The mean training loss of each of those epochs (metrics.jsonl), for loss-driven schedules. */
  readonly losses: readonly number[];
  readonly spikingLayers: number;
  readonly batchesPerEpoch: number;
}

/**
 * Checks that `target` trains epochs 1…epochsDone as `source` did, and returns the state of the
 * target's sharpening schedule after them. Throws InputError naming the first difference.
 */
export function checkBranch(c: BranchCheck): SharpeningCheckpoint {
  const { source, target, epochsDone: n } = c;
  const refuse = (what: string) =>
    new InputError(
      `--from ${c.run}: ${what}, so this config would not have trained epochs 1–${n} as the run did; branch from a run that agrees up to its checkpoint`,
    );
  if (n < 1) throw new InputError(`--from ${c.run}: the run has no completed epoch to branch from`);
  if (target.training.epochs <= n) {
    throw new InputError(`--from ${c.run}: the run's checkpoint is after epoch ${n}, and this config trains only ${target.training.epochs} epochs`);
  }
  const fixed: [string, unknown, unknown][] = [
    ['seed', source.seed, target.seed],
    ['dataset', source.dataset, target.dataset],
    ['model', source.model, target.model],
    ['training.batch_size', source.training.batch_size, target.training.batch_size],
    ['training.optimizer', source.training.optimizer, target.training.optimizer],
  ];
  for (const [key, a, b] of fixed) {
    const d = firstDifference(a, b, key);
    if (d !== undefined) throw refuse(`${d} differs from the run's`);
  }
  if (c.losses.length < n) throw new InputError(`--from ${c.run}: metrics.jsonl records ${c.losses.length} epochs but the checkpoint holds ${n}`);
  for (let e = 0; e < n; e++) {
    const rate = (cfg: ExperimentConfig) => trainingLearningRate(cfg.training, e);
    if (rate(source) !== rate(target)) throw refuse(`the learning rate of epoch ${e + 1} differs (${rate(source)} in the run, ${rate(target)} here)`);
    const d = firstDifference(augmentationAt(source.training.augmentation, e) ?? null, augmentationAt(target.training.augmentation, e) ?? null);
    if (d !== undefined) throw refuse(`the augmentation of epoch ${e + 1} differs`);
  }
  const schedules = [source, target].map((cfg) => createSchedule(cfg.sharpening, c.spikingLayers, c.batchesPerEpoch));
  const [was, now] = schedules as [SharpeningSchedule, SharpeningSchedule];
  const same = () => was.sharpness.every((v, i) => v === now.sharpness[i]);
  for (let e = 0; e < n; e++) {
    for (let b = 0; b < c.batchesPerEpoch; b++) {
      was.afterBatch(e, b);
      now.afterBatch(e, b);
      if (!same()) throw refuse(`sharpening differs in epoch ${e + 1} (after batch ${b + 1}: [${was.sharpness.join(' ')}] in the run, [${now.sharpness.join(' ')}] here)`);
    }
    was.afterEpoch(e, c.losses[e]!);
    now.afterEpoch(e, c.losses[e]!);
    if (!same()) throw refuse(`sharpening differs at the end of epoch ${e + 1} ([${was.sharpness.join(' ')}] in the run, [${now.sharpness.join(' ')}] here)`);
  }
  return now.toJSON();
}
