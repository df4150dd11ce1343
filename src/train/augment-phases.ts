/**
 * Which augmentation an epoch trains with: a pure function of the epoch (0-based) and
 * `training.augmentation`, so a resumed run augments each epoch as an uninterrupted run would.
 *
 * The config is one mapping (augment every epoch, or the epochs before its `until_epoch`) or a
 * list of phases in epoch order: phase k covers the epochs from phase k−1's `until_epoch` (0 for
 * the first) to its own; after the last phase's `until_epoch`, images are plain.
 */
import type { AugmentationConfig } from '../config/schema.js';
import { isIdentityAugmentation, type Augmentation } from '../data/index.js';

/** The augmentation of epoch `epoch` (0-based), or undefined when its images are plain. */
export function augmentationAt(config: AugmentationConfig | undefined, epoch: number): Augmentation | undefined {
  const phases = config === undefined ? [] : Array.isArray(config) ? config : [config];
  const phase = phases.find((p) => epoch < (p.until_epoch ?? Infinity));
  if (phase === undefined) return undefined;
  const aug = { shift: phase.shift, flipHorizontal: phase.flip_horizontal };
  return isIdentityAugmentation(aug) ? undefined : aug;
}
