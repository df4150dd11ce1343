/**
 * Per-epoch checkpoints: the model (with its sharpness), the optimizer's state, the schedule's
 * state and where training stands. A checkpoint is written into a fresh directory and swapped in
 * by rename, so the run directory always holds one whole, consistent checkpoint.
 */
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { loadModel, saveModel } from '../model/io.js';
import { tf } from '../model/tf.js';
import type { SharpeningCheckpoint } from '../sharpen/index.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';

export const CHECKPOINT_DIR = 'checkpoint';

export interface TrainingState {
  readonly version: 1;
  /** Epochs completed (the next epoch to run is this number, 0-based). */
  readonly epochsDone: number;
  readonly schedule: SharpeningCheckpoint;
  /** Whether an unsharpened snapshot (`unsharpened/`) was taken. */
  readonly unsharpenedSaved: boolean;
  /** Wall seconds spent training before this checkpoint, summed over sessions. */
  readonly trainSeconds: number;
}

interface OptimizerFile {
  weights: { name: string; shape: number[]; offset: number }[];
}

export async function saveCheckpoint(runDir: string, model: tf.LayersModel, optimizer: tf.Optimizer, state: TrainingState): Promise<void> {
  const final = join(runDir, CHECKPOINT_DIR);
  const tmp = join(runDir, `.${CHECKPOINT_DIR}.tmp`);
  const old = join(runDir, `.${CHECKPOINT_DIR}.old`);
  rmSync(tmp, { recursive: true, force: true });
  await saveModel(model, join(tmp, 'model'));
  const named = await optimizer.getWeights();
  const layout: OptimizerFile = { weights: [] };
  let offset = 0;
  for (const { name, tensor } of named) {
    layout.weights.push({ name, shape: tensor.shape, offset });
    offset += tensor.size;
  }
  const all = new Float32Array(offset);
  named.forEach(({ tensor }, i) => all.set(tensor.dataSync() as Float32Array, layout.weights[i]!.offset));
  writeFileAtomic(join(tmp, 'optimizer.bin'), new Uint8Array(all.buffer));
  writeJsonAtomic(join(tmp, 'optimizer.json'), layout);
  // state.json last: its presence marks the checkpoint complete.
  writeJsonAtomic(join(tmp, 'state.json'), state);
  rmSync(old, { recursive: true, force: true });
  if (existsSync(final)) renameSync(final, old);
  renameSync(tmp, final);
  rmSync(old, { recursive: true, force: true });
}

export interface LoadedCheckpoint {
  readonly model: tf.LayersModel;
  readonly optimizerWeights: { name: string; tensor: tf.Tensor }[];
  readonly state: TrainingState;
}

/** Loads the run's checkpoint (or the previous one, if a swap was interrupted). Throws InputError. */
export async function loadCheckpoint(runDir: string): Promise<LoadedCheckpoint> {
  const candidates = [join(runDir, CHECKPOINT_DIR), join(runDir, `.${CHECKPOINT_DIR}.old`)];
  const dir = candidates.find((d) => existsSync(join(d, 'state.json')));
  if (dir === undefined) throw new InputError(`${runDir}: no checkpoint to resume from (expected ${CHECKPOINT_DIR}/state.json)`);
  let state: TrainingState;
  let layout: OptimizerFile;
  try {
    state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as TrainingState;
    layout = JSON.parse(readFileSync(join(dir, 'optimizer.json'), 'utf8')) as OptimizerFile;
  } catch (e) {
    throw new InputError(`${dir}: checkpoint is unreadable (${(e as Error).message.split('\n')[0]})`);
  }
  if (state.version !== 1 || !Number.isInteger(state.epochsDone)) throw new InputError(`${dir}/state.json: not a whetstone checkpoint`);
  const model = await loadModel(join(dir, 'model'));
  const bytes = readFileSync(join(dir, 'optimizer.bin'));
  const floats = new Float32Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.byteLength / 4));
  const optimizerWeights = layout.weights.map(({ name, shape, offset }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    if (offset + size > floats.length) throw new InputError(`${dir}/optimizer.bin: truncated`);
    return { name, tensor: tf.tensor(floats.slice(offset, offset + size), shape) };
  });
  return { model, optimizerWeights, state };
}
