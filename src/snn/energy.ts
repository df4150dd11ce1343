/**
 * Energy per inference — an ESTIMATE: synaptic events counted by the simulator × the energy per
 * synaptic event published for each platform, next to the equivalent ANN's multiply-accumulates ×
 * the energy of one MAC on a conventional accelerator. It leaves out everything these constants
 * do not price (static power, spike routing between chips, host I/O, memory traffic of the ANN),
 * so read it as an order-of-magnitude comparison, not a measurement.
 */

export interface EnergyConstant {
  readonly platform: string;
  /** Joules per operation: one synaptic event (neuromorphic) or one MAC (ANN). */
  readonly joulesPerOp: number;
  readonly op: 'synaptic event' | 'MAC';
  /** Where the number comes from. */
  readonly source: string;
}

/** Neuromorphic platforms: energy per synaptic event. */
export const NEUROMORPHIC_ENERGY: readonly EnergyConstant[] = [
  {
    platform: 'Loihi',
    // Davies et al., "Loihi: A neuromorphic manycore processor with on-chip learning", IEEE Micro 38(1), 2018,
    // Table 1: minimum energy per synaptic spike operation, 14 nm (a characterisation figure, not a whole-system measurement).
    joulesPerOp: 23.6e-12,
    op: 'synaptic event',
    source: 'Davies et al., IEEE Micro 38(1) 2018, Table 1: 23.6 pJ per synaptic spike op (14 nm)',
  },
  {
    platform: 'TrueNorth',
    // Merolla et al., "A million spiking-neuron integrated circuit with a scalable communication network and
    // interface", Science 345(6197):668–673, 2014: 26 pJ per synaptic event (28 nm, measured at 0.775 V,
    // an operating-point average that includes static power).
    joulesPerOp: 26e-12,
    op: 'synaptic event',
    source: 'Merolla et al., Science 345:668 2014: 26 pJ per synaptic event (28 nm)',
  },
  {
    platform: 'SpiNNaker',
    // Furber, "Large-scale neuromorphic computing systems", J. Neural Eng. 13:051001, 2016, Table 1:
    // about 10 nJ per synaptic event for SpiNNaker (130 nm ARM968 cores, software neurons); Stromatias et al.
    // (IJCNN 2013) built the per-event power model for SpiNNaker boards that this order of magnitude rests on.
    joulesPerOp: 10e-9,
    op: 'synaptic event',
    source: 'Furber, J. Neural Eng. 13:051001 2016, Table 1: ~10 nJ per synaptic event (SpiNNaker-1, 130 nm)',
  },
];

/** Conventional accelerators: energy per multiply-accumulate, arithmetic only. */
export const ANN_ENERGY: readonly EnergyConstant[] = [
  {
    platform: 'ANN accelerator, fp32 MAC',
    // Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014, 45 nm:
    // 32-bit float multiply 3.7 pJ + add 0.9 pJ.
    joulesPerOp: 4.6e-12,
    op: 'MAC',
    source: 'Horowitz, ISSCC 2014 (45 nm): fp32 mult 3.7 pJ + add 0.9 pJ',
  },
  {
    platform: 'ANN accelerator, int8 MAC',
    // Horowitz, ISSCC 2014, 45 nm: 8-bit integer multiply 0.2 pJ + 8-bit add 0.03 pJ.
    joulesPerOp: 0.23e-12,
    op: 'MAC',
    source: 'Horowitz, ISSCC 2014 (45 nm): int8 mult 0.2 pJ + add 0.03 pJ',
  },
];

export interface EnergyRow {
  readonly platform: string;
  readonly op: 'synaptic event' | 'MAC';
  /** Operations per inference (mean). */
  readonly ops_per_inference: number;
  readonly joules_per_op: number;
  readonly joules_per_inference: number;
  readonly source: string;
}

export interface EnergyEstimate {
  /** Always true: these are estimates from published per-operation energies, not measurements. */
  readonly estimate: true;
  readonly note: string;
  readonly rows: readonly EnergyRow[];
}

export const ENERGY_NOTE =
  'estimate: operations counted by the simulator × published energy per operation; excludes static power, routing, I/O and memory traffic';

/** Energy per inference from mean synaptic events and the equivalent ANN's MACs per inference. */
export function estimateEnergy(eventsPerInference: number, macsPerInference: number): EnergyEstimate {
  const row = (c: EnergyConstant, ops: number): EnergyRow => ({
    platform: c.platform,
    op: c.op,
    ops_per_inference: ops,
    joules_per_op: c.joulesPerOp,
    joules_per_inference: ops * c.joulesPerOp,
    source: c.source,
  });
  return {
    estimate: true,
    note: ENERGY_NOTE,
    rows: [...NEUROMORPHIC_ENERGY.map((c) => row(c, eventsPerInference)), ...ANN_ENERGY.map((c) => row(c, macsPerInference))],
  };
}
