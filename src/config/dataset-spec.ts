/**
 * The experiment config's `dataset` section as the data layer's DatasetSpec: one mapping, shared by
 * `train` (the run's splits) and `evaluate` (the same test split, from the run's config.yaml).
 */
import type { DatasetSpec } from '../data/types.js';
import type { ExperimentConfig } from './schema.js';

export function datasetSpecFromConfig(config: ExperimentConfig): DatasetSpec {
  const d = config.dataset;
  const limit = typeof d.limit === 'number' ? { train: d.limit, test: d.limit } : d.limit;
  const f = d.files;
  return {
    name: d.name,
    path: d.path,
    files: f && { trainImages: f.train_images, trainLabels: f.train_labels, testImages: f.test_images, testLabels: f.test_labels },
    limit,
    validation: d.validation,
    seed: config.seed,
  };
}
