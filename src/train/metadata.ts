/** What a run records about where it ran, so that a result can be traced and reproduced. */
import { cpus, platform, release, arch, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import type { BackendInfo } from '../backend/index.js';
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
