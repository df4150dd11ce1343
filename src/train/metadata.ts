/** What a run records about where it ran, so that a result can be traced and reproduced. */
import { cpus, platform, release, arch, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import type { BackendInfo } from '../backend/index.js';
import type { SourceFormat } from '../model/convert/source.js';
import { tf } from '../model/tf.js';

export const WHETSTONE_VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export interface RunMetadata {
  whetstone_version: string;
  tfjs_version: string;
  node_version: string;
  backend: BackendInfo;
  seed: number;
  /** Threads that computed gradients (data-parallel training, `--workers`). */
  workers?: number;
  machine: { platform: string; release: string; arch: string; cpu: string; cores: number; memory_gb: number };
  command: string[];
  started_at: string;
  ended_at?: string;
  resumed_at?: string[];
  /** `train --from`: the run whose checkpoint this run started from, and that checkpoint's epoch. */
  branched_from?: { run: string; epoch: number };
  /** `sharpen` runs: the model the run started from (kept across `--resume`). */
  source_model?: SourceModelInfo;
}

/** What `sharpen` records about the network it cross-trained. */
export interface SourceModelInfo {
  /** The model.json, as given. */
  path: string;
  /** keras: the tensorflowjs converter's output; tfjs: tfjs's own model.save; onnx; keras3: a `.keras` file; keras-h5: a legacy `.h5`. */
  format: SourceFormat;
  class_name: string;
  parameters: number;
  /** Test accuracy of the source model as it was (analog input, its own activations). */
  accuracy: number;
  /** Test accuracy of the rewritten network before fine-tuning (smooth activations). */
  converted_accuracy: number;
  /** How each layer was mapped: source layer → Whetstone layer(s). */
  layers: { source: string; class_name: string; became: string[] }[];
  calibration: unknown;
}

export function collectMetadata(backend: BackendInfo, seed: number, command: readonly string[]): RunMetadata {
  const cpuList = cpus();
  return {
    whetstone_version: WHETSTONE_VERSION,
    tfjs_version: tf.version.tfjs,
    node_version: process.versions.node,
    backend,
    seed,
    machine: {
      platform: platform(),
      release: release(),
      arch: arch(),
      cpu: cpuList[0]?.model.trim() ?? 'unknown',
      cores: cpuList.length,
      memory_gb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    },
    command: [...command],
    started_at: new Date().toISOString(),
  };
}
