export { trainExperiment, SUMMARY_KEYS, type TrainOptions, type TrainEvents, type TrainResult, type TrainSummary, type StartInfo } from './pipeline.js';
export type { EpochMetrics, BatchProgress } from './loop.js';
export { parseGates, checkGates, GateFailedError, type Gate, type GateResult } from './gates.js';
