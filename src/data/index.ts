/**
 * Public API of the data layer: load a dataset by spec, then batch it. Nothing here imports tfjs,
 * so datasets can be read and checked without a deep-learning framework.
 */
export * from './types.js';
export { loadDataset, loadIdxDataset, describeDatasets, type DatasetDescription } from './registry.js';
export { shuffledOrder, applySplitOptions, splitValidation, validationCount, limitSplit, subset, type SplitOptions } from './split.js';
export { normaliseBatch, batches, batchCount, identityOrder, pixelsPerImage, type Batch, type BatchOptions } from './batches.js';
export { augmentBatch, augmentationRandom, isIdentity as isIdentityAugmentation, type Augmentation } from './augment.js';
export {
  parseIdx,
  encodeIdx,
  readIdxFile,
  readIdxImages,
  readIdxLabels,
  readIdxSplit,
  IDX_IMAGES_MAGIC,
  IDX_LABELS_MAGIC,
  IDX_IMAGES_CHANNELS_MAGIC,
  type IdxArray,
  type IdxImages,
  type IdxSplit,
} from './idx.js';
export { loadCifar10, parseCifarBatch, CIFAR_CLASS_NAMES, CIFAR_SHAPE, type CifarData } from './cifar.js';
export { loadMnist, mnistDataDir, MNIST_FILES, MNIST_CLASS_NAMES, type MnistData } from './mnist.js';
export {
  loadFashionMnist,
  buildFashionSplit,
  cacheDirCandidates,
  FASHION_CLASS_NAMES,
  FASHION_SPLIT_SEED,
  FASHION_TEST_PER_CLASS,
  type FashionData,
  type FashionOptions,
} from './fashion.js';
