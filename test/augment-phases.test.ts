import { describe, expect, it } from 'vitest';
import { formatProblem, parseExperiment } from '../src/config/loader.js';
import type { AugmentationConfig } from '../src/config/schema.js';
import { augmentationAt } from '../src/train/augment-phases.js';

const minimal = 'model:\n  layers:\n    - {type: flatten}\n    - {type: dense, units: 8}\n    - {type: spiking}\n';

function parse(augmentation: string) {
  const { config, errors } = parseExperiment(`${minimal}training: {epochs: 10, augmentation: ${augmentation}}\n`, 'x.yaml');
  return { augmentation: config?.training.augmentation as AugmentationConfig, errors: errors.map(formatProblem) };
}

/** The shift of each epoch (0-based), null for plain images; flips are shown as 'f'. */
const shifts = (a: AugmentationConfig | undefined, epochs: number) =>
  Array.from({ length: epochs }, (_, e) => {
    const aug = augmentationAt(a, e);
    return aug === undefined ? null : `${aug.shift}${aug.flipHorizontal ? 'f' : ''}`;
  });

describe('augmentation phases', () => {
  it('none, or the identity, leaves every epoch plain', () => {
    expect(shifts(undefined, 3)).toEqual([null, null, null]);
    expect(shifts(parse('{shift: 0}').augmentation, 2)).toEqual([null, null]);
  });

  it('one mapping augments every epoch, or the epochs before until_epoch', () => {
    expect(shifts(parse('{shift: 2, flip_horizontal: true}').augmentation, 3)).toEqual(['2f', '2f', '2f']);
    expect(shifts(parse('{shift: 2, until_epoch: 2}').augmentation, 4)).toEqual(['2', '2', null, null]);
  });

  it('a list runs each phase from the previous until_epoch to its own, then plain images', () => {
    const { augmentation, errors } = parse('[{shift: 2, until_epoch: 2}, {shift: 0, until_epoch: 3}, {shift: 1, until_epoch: 5}]');
    expect(errors).toEqual([]);
    expect(shifts(augmentation, 6)).toEqual(['2', '2', null, '1', '1', null]);
    expect(shifts(parse('[{shift: 2, until_epoch: 1}, {shift: 1}]').augmentation, 3)).toEqual(['2', '1', '1']);
  });

  it('refuses a list whose phases have no end or overlap, with the path of the phase', () => {
    expect(parse('[{shift: 2}, {shift: 1}]').errors[0]).toMatch(/training\.augmentation\.0\.until_epoch: every phase but the last needs until_epoch/);
    expect(parse('[{shift: 2, until_epoch: 4}, {shift: 1, until_epoch: 4}]').errors[0]).toMatch(
      /training\.augmentation\.1\.until_epoch: must be after the previous phase's until_epoch \(4\)/,
    );
    expect(parse('[]').errors.length).toBeGreaterThan(0);
    expect(parse('{shift: 9}').errors[0]).toMatch(/training\.augmentation\.shift: must be at most 8 pixels/);
  });
});
