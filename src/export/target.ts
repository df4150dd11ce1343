/**
 * The contract between the export pipeline (index.ts) and one target file: a target writes its
 * files into a directory it is given (a temporary one, renamed into place only when every file is
 * written) and returns what it wrote plus lines for the user. It refuses what it cannot represent
 * exactly with an InputError — before writing anything where it can.
 */
import type { SpikingNetwork } from '../snn/network.js';

export const TARGET_NAMES = ['nir', 'spinnaker', 'loihi', 'json'] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

export const NIR_NEURONS = ['threshold', 'if'] as const;
export type NirNeuron = (typeof NIR_NEURONS)[number];

/** PyNN backends the SpiNNaker script can run on (`--simulator`); sPyNNaker is the default. */
export const PYNN_SIMULATORS = ['spiNNaker', 'brian2', 'nest'] as const;
export type PynnSimulator = (typeof PYNN_SIMULATORS)[number];

/** Test images for targets that embed or evaluate samples: HWC bytes, back to back. */
export interface Samples {
  readonly dataset: string;
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
  readonly count: number;
}

export interface TargetContext {
  /** The network to export (already quantized when --weight-bits was given). */
  readonly network: SpikingNetwork;
  /** The network as loaded, before any --weight-bits quantization. */
  readonly original: SpikingNetwork;
  /** Temporary directory to write into. */
  readonly dir: string;
  /** Where the network came from, for the README. */
  readonly source: string;
  /** Test images, when a dataset is known (the run's, or --data). */
  readonly samples: Samples | null;
  /** The simulator's predictions of `network` for `samples`. */
  readonly predictions: Uint8Array | null;
  readonly neuron: NirNeuron;
  readonly simulator: PynnSimulator;
  /** Bits of the quantization already applied (--weight-bits), or null for float32 weights. */
  readonly weightBits: number | null;
  /** How many samples the SpiNNaker script carries. */
  readonly scriptSamples: number;
}

export interface TargetReport {
  /** Files written, relative to the export directory (README.md and export.json are added by the pipeline). */
  readonly files: string[];
  /** The README's body: what the files are, how to run them on the platform, what maps to what. */
  readonly readme: string;
  /** Lines for the user (stdout). */
  readonly lines: string[];
  /** Extra facts for export.json (accuracy after quantization, …). */
  readonly details?: Record<string, unknown>;
}

export interface ExportTarget {
  readonly name: TargetName;
  readonly description: string;
  /** Whether the export needs test images (it embeds them or reports an accuracy). */
  readonly needsSamples: boolean;
  /** Refuses (InputError) what the target cannot represent; writes nothing. */
  check(network: SpikingNetwork, ctx: { neuron: NirNeuron; weightBits: number | null }): void;
  write(ctx: TargetContext): Promise<TargetReport>;
}
