/**
 * Public API of the spiking network: the IR, its artifact on disk, the event-driven simulator,
 * quantization, statistics and energy. Nothing reachable from here imports tfjs; conversion from a
 * tfjs model lives in './from-tfjs.js' and is imported explicitly by those that have a tfjs model.
 */
export * from './network.js';
export { validateNetwork, totalNeurons, MAX_CLASSES } from './validate.js';
export {
  writeArtifact,
  loadArtifact,
  serializeNetwork,
  deserializeNetwork,
  resolveArtifactPath,
  NETWORK_FILE,
  WEIGHTS_FILE,
  RUN_SNN_DIR,
  type WrittenArtifact,
  type NetworkJson,
} from './io.js';
export { SpikingSimulator, classifyAll, unpackBits, popcount, PIXEL_VALUES, type LayerCounters, type ImageBatch } from './simulator.js';
export { quantizeNetwork, MIN_WEIGHT_BITS, MAX_WEIGHT_BITS, type QuantizedNetwork, type LayerQuantization } from './quantize.js';
export { estimateEnergy, NEUROMORPHIC_ENERGY, ANN_ENERGY, ENERGY_NOTE, type EnergyConstant, type EnergyEstimate, type EnergyRow } from './energy.js';
export {
  evaluateSpikingNetwork,
  predictSpiking,
  simulateImages,
  type EvaluationOptions,
  type EvaluationResult,
  type LayerStatistics,
  type LabelledImages,
} from './evaluate.js';
export { evaluateRun, type EvaluateRunOptions, type RunEvaluation } from './run.js';
