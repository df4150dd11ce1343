/**
 * Learning-rate schedules: the rate for each epoch, a pure function of the epoch (0-based), the
 * optimizer's base rate and the schedule. Being a function of the epoch alone, it needs no state in
 * a checkpoint: a resumed run trains each epoch at the rate an uninterrupted run would have used.
 *
 * The usual use in Whetstone is to train at the base rate while the network learns and to lower it
 * while the layers sharpen (`start_epoch` = `sharpening.start_epoch`), so the network can settle
 * into each new step function instead of being thrown about by large updates.
 */
import type { ExperimentConfig, LearningRateScheduleConfig } from '../config/schema.js';
import { baseLearningRate } from './optimizer.js';

/**
 * The rate for epoch `epoch` (0-based):
 * - none: `base` throughout;
 * - step: `base · factor^k`, k = the number of milestones ≤ epoch (PyTorch's MultiStepLR);
 * - exponential: `base` before `start_epoch`, then `base · factor^(epoch − start_epoch + 1)`;
 * - cosine: `base` before `start_epoch`, then down a half cosine to `min_learning_rate`, reached
 *   in epoch `end_epoch − 1` (default: `epochs − 1`, the last epoch training may run) and kept after it.
 */
export function learningRateAt(schedule: LearningRateScheduleConfig | undefined, base: number, epoch: number, epochs: number): number {
  if (schedule === undefined) return base;
  switch (schedule.type) {
    case 'step': {
      const passed = schedule.milestones.filter((m) => m <= epoch).length;
      return base * schedule.factor ** passed;
    }
    case 'exponential':
      return epoch < schedule.start_epoch ? base : base * schedule.factor ** (epoch - schedule.start_epoch + 1);
    case 'cosine': {
      if (epoch < schedule.start_epoch) return base;
      const span = Math.max(1, (schedule.end_epoch ?? epochs) - schedule.start_epoch);
      const t = Math.min(1, (epoch - schedule.start_epoch + 1) / span);
      const min = schedule.min_learning_rate;
      return min + ((base - min) * (1 + Math.cos(Math.PI * t))) / 2;
    }
  }
}

/** The rate of epoch `epoch` (0-based) for a `training` section: its schedule over its optimizer's base rate. */
export function trainingLearningRate(training: ExperimentConfig['training'], epoch: number): number {
  return learningRateAt(training.learning_rate_schedule, baseLearningRate(training.optimizer), epoch, training.epochs);
}
