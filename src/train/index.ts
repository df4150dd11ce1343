export { trainExperiment, type TrainOptions, type TrainEvents, type TrainResult, type TrainSummary, type StartInfo } from './pipeline.js';
export type { EpochMetrics, BatchProgress } from './loop.js';
