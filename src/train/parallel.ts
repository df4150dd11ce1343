/**
 * The training step as the epoch loop sees it: one optimizer step per batch, on one thread or
 * data-parallel across worker_threads (`whetstone train --workers N`).
 *
 * With N workers the batch is cut into N contiguous slices of equal size (±1). The main thread
 * computes the first slice's gradients itself while N−1 gradient workers (gradient-worker.ts, each
 * its own tfjs + wasm instance and model copy) compute the others; the gradients of the slices'
 * mean losses are averaged, weighted by slice size, in slice order, and the main thread's
 * optimizer applies them. Before every step the main thread's weights (trainable, batch-norm
 * statistics and sharpness) are copied to shared memory and every worker loads them, so all
 * copies compute with identical weights. Nothing depends on timing: the same seed and worker
 * count give the same result.
 *
 * What changes with N: batch normalisation normalises each slice with the slice's own statistics
 * (as PyTorch DDP without SyncBatchNorm does), and the moving mean/variance become the
 * size-weighted average of the slices' updates. Networks without batch norm (and dropout) get the
 * same update as with one worker, up to float rounding.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

import type { BackendName } from '../backend/index.js';
import type { Batch } from '../data/index.js';
import { RuntimeFailure } from '../errors.js';
import { reseedDropout } from '../model/dropout.js';
import { tf } from '../model/tf.js';
import { readWeights, sliceGradients, weightLayout, writeWeights, type WeightLayout } from './gradients.js';
import type { FromWorker, ToWorker, WorkerInit } from './gradient-worker.js';

export interface StepResult {
  /** Mean loss over the batch. */
  readonly loss: number;
  /** Mean accuracy over the batch. */
  readonly accuracy: number;
}

/** Runs one optimizer step per batch on a compiled model. */
export interface BatchTrainer {
  /** Threads computing gradients (1: the main thread alone). */
  readonly workers: number;
  /** One optimizer step; `seed` (dropout.ts stepSeed) draws the step's dropout masks. */
  step(batch: Batch, seed: number): Promise<StepResult>;
  /** Stops the worker threads. */
  close(): Promise<void>;
}

export interface TrainerOptions {
  /** Compiled (categorical cross-entropy, accuracy) with its optimizer. */
  readonly model: tf.LayersModel;
  readonly shape: readonly [number, number, number];
  readonly classes: number;
  /** Threads computing gradients; 1 trains on the main thread with `model.trainOnBatch`. */
  readonly workers: number;
  /** The active backend, started in every worker. */
  readonly backend: Exclude<BackendName, 'auto'>;
}

/** The default never cuts a batch into slices smaller than this (see defaultWorkers). */
export const MIN_SLICE = 64;

/**
 * `--workers` default, from what was measured (docs/parallel-training.md):
 * - tfjs-node already runs its kernels on every core: 1;
 * - networks without convolutions: 1 — their steps are short and mostly per-op overhead, and a
 *   second thread gained nothing (7,500 images/s with 1 or 2 on `quickstart`);
 * - convolutional networks: one per core, but no more than keeps every slice at MIN_SLICE images or
 *   more — batch norm computes its statistics per slice, and small slices change what the network
 *   learns (batch 128 → 2 workers; batch 32 → 1).
 */
export function defaultWorkers(backend: Exclude<BackendName, 'auto'>, config: { training: { batch_size: number }; model: { layers: readonly { type: string }[] } }): number {
  if (backend === 'tfjs-node') return 1;
  if (!config.model.layers.some((l) => l.type === 'conv2d')) return 1;
  return Math.max(1, Math.min(availableParallelism(), Math.floor(config.training.batch_size / MIN_SLICE)));
}

export async function createTrainer(opts: TrainerOptions): Promise<BatchTrainer> {
  if (!Number.isInteger(opts.workers) || opts.workers < 1) throw new RangeError(`workers must be a positive integer, got ${opts.workers}`);
  if (opts.workers === 1) return new MainThreadTrainer(opts);
  const trainer = new ParallelTrainer(opts);
  await trainer.start();
  return trainer;
}

/** One thread: exactly tfjs-layers' trainOnBatch. */
class MainThreadTrainer implements BatchTrainer {
  readonly workers = 1;
  constructor(private readonly opts: TrainerOptions) {}

  async step(batch: Batch, seed: number): Promise<StepResult> {
    reseedDropout(this.opts.model, seed, 0);
    const x = tf.tensor4d(batch.x, [batch.count, ...this.opts.shape]);
    const y = tf.tidy(() => tf.oneHot(tf.tensor1d(batch.y, 'int32'), this.opts.classes));
    try {
      const result = (await this.opts.model.trainOnBatch(x, y)) as number[];
      return { loss: result[0] ?? Number.NaN, accuracy: result[1] ?? Number.NaN };
    } finally {
      x.dispose();
      y.dispose();
    }
  }

  async close(): Promise<void> {}
}

/** Sizes of `n` near-equal contiguous slices of `count` items (the first ones get the remainder). */
export function sliceSizes(count: number, n: number): number[] {
  const base = Math.floor(count / n);
  return Array.from({ length: n }, (_, i) => base + (i < count % n ? 1 : 0));
}

interface Pending {
  resolve(m: { loss: number; accuracy: number }): void;
  reject(e: Error): void;
}

class ParallelTrainer implements BatchTrainer {
  readonly workers: number;
  private readonly layout: WeightLayout;
  private readonly threads: Worker[] = [];
  private readonly weights: Float32Array;
  private readonly grads: Float32Array[] = [];
  private readonly running: Float32Array[] = [];
  private readonly ownGrads: Float32Array;
  private readonly runningSize: number;
  private x = new SharedArrayBuffer(0);
  private labels = new SharedArrayBuffer(0);
  private readonly pending = new Map<number, Pending>();
  private failure: Error | undefined;

  constructor(private readonly opts: TrainerOptions) {
    this.workers = opts.workers;
    this.layout = weightLayout(opts.model);
    this.weights = new Float32Array(new SharedArrayBuffer(this.layout.totalSize * 4));
    this.ownGrads = new Float32Array(this.layout.gradSize);
    this.runningSize = this.layout.running.reduce((a, i) => a + this.layout.weights[i]!.size, 0);
  }

  async start(): Promise<void> {
    const url = await workerUrl();
    const modelJson = this.opts.model.toJSON(null, true) as string;
    const ready: Promise<unknown>[] = [];
    for (let i = 1; i < this.workers; i++) {
      const grads = new SharedArrayBuffer(this.layout.gradSize * 4);
      const running = new SharedArrayBuffer(this.runningSize * 4);
      this.grads[i] = new Float32Array(grads);
      this.running[i] = new Float32Array(running);
      const init: WorkerInit = { index: i, backend: this.opts.backend, modelJson, shape: this.opts.shape, classes: this.opts.classes, weights: this.weights.buffer as SharedArrayBuffer, grads, running };
      const worker = new Worker(url, { workerData: init });
      this.threads[i] = worker;
      ready.push(
        new Promise<void>((resolve, reject) => {
          this.pending.set(i, { resolve: () => resolve(), reject });
        }),
      );
      worker.on('message', (m: FromWorker) => this.onMessage(i, m));
      worker.on('error', (e) => this.fail(i, e));
      worker.on('exit', (code) => {
        if (!this.closing) this.fail(i, new Error(`exited with code ${code}`));
      });
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  private closing = false;

  private onMessage(i: number, m: FromWorker): void {
    const p = this.pending.get(i);
    this.pending.delete(i);
    if (m.type === 'error') {
      this.fail(i, new Error(m.message));
      p?.reject(this.failure!);
    } else if (m.type === 'done') p?.resolve({ loss: m.loss, accuracy: m.accuracy });
    else p?.resolve({ loss: 0, accuracy: 0 });
  }

  private fail(i: number, e: Error): void {
    this.failure ??= new RuntimeFailure(`gradient worker ${i}: ${e.message}`);
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }

  private ensureCapacity(count: number): void {
    const pixels = this.opts.shape[0] * this.opts.shape[1] * this.opts.shape[2];
    if (this.labels.byteLength >= count) return;
    this.x = new SharedArrayBuffer(count * pixels * 4);
    this.labels = new SharedArrayBuffer(count);
  }

  async step(batch: Batch, seed: number): Promise<StepResult> {
    if (this.failure) throw this.failure;
    const { model, shape, classes } = this.opts;
    const layout = this.layout;
    const pixels = shape[0] * shape[1] * shape[2];
    this.ensureCapacity(batch.count);
    new Float32Array(this.x, 0, batch.count * pixels).set(batch.x);
    new Uint8Array(this.labels, 0, batch.count).set(batch.y);
    readWeights(model, layout, this.weights);

    const sizes = sliceSizes(batch.count, this.workers);
    const starts = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
    const results: Promise<{ loss: number; accuracy: number }>[] = [];
    for (let i = 1; i < this.workers; i++) {
      if (sizes[i] === 0) continue;
      results[i] = new Promise((resolve, reject) => this.pending.set(i, { resolve, reject }));
      const m: ToWorker = { type: 'step', x: this.x, labels: this.labels, start: starts[i]!, count: sizes[i]!, seed };
      this.threads[i]!.postMessage(m);
    }
    // The main thread's own slice, while the workers compute theirs.
    reseedDropout(model, seed, 0);
    const own = sliceGradients(model, layout, batch.x.subarray(0, sizes[0]! * pixels), batch.y.subarray(0, sizes[0]!), shape, classes, this.ownGrads);
    const ownRunning = new Float32Array(this.runningSize);
    let o = 0;
    for (const i of layout.running) {
      const v = model.weights[i]!.read().dataSync() as Float32Array;
      ownRunning.set(v, o);
      o += v.length;
    }
    const others = await Promise.all(results.map((p) => p ?? Promise.resolve(undefined)));

    // Weighted means over the slices, always summed in slice order (deterministic). The gradients
    // are summed by the backend (vectorised), the small rest in JavaScript.
    const share = sizes.map((s) => s / batch.count);
    const used = sizes.map((s, i) => (s > 0 ? i : -1)).filter((i) => i >= 0);
    const running = new Float64Array(this.runningSize);
    let loss = 0;
    let accuracy = 0;
    for (const i of used) {
      const w = share[i]!;
      const r = i === 0 ? ownRunning : this.running[i]!;
      for (let j = 0; j < r.length; j++) running[j] = running[j]! + w * r[j]!;
      const m = i === 0 ? own : others[i]!;
      loss += w * m.loss;
      accuracy += w * m.accuracy;
    }
    const unreached = new Set(own.unreached);
    const named: tf.NamedTensorMap = {};
    model.trainableWeights.forEach((wt, k) => {
      if (unreached.has(k)) return;
      const { size, shape: s } = layout.weights[layout.trainable[k]!]!;
      const off = layout.gradOffsets[k]!;
      named[(wt.read() as tf.Variable).name] = tf.tidy(() => {
        let sum: tf.Tensor | undefined;
        for (const i of used) {
          const g = (i === 0 ? this.ownGrads : this.grads[i]!).subarray(off, off + size);
          const part = tf.mul(tf.tensor(g, [...s], 'float32'), share[i]!);
          sum = sum === undefined ? part : tf.add(sum, part);
        }
        return sum!;
      });
    });
    model.optimizer.applyGradients(named);
    tf.dispose(Object.values(named));
    if (layout.running.length > 0) {
      const flat = new Float32Array(layout.totalSize);
      let r = 0;
      for (const i of layout.running) {
        const { offset, size } = layout.weights[i]!;
        flat.set(running.subarray(r, r + size), offset);
        r += size;
      }
      writeWeights(model, layout, flat, layout.running);
    }
    return { loss, accuracy };
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.threads.filter((t) => t !== undefined).map((t) => t.terminate()));
  }
}

/**
 * The worker's entry module. Built (dist/): gradient-worker.js beside this file. Running from the
 * TypeScript sources (tests, vite-node scripts): worker_threads cannot load .ts, so the worker is
 * bundled once with esbuild (which vitest's vite brings) into node_modules/.cache/whetstone/,
 * packages left external so they resolve to the project's node_modules.
 */
async function workerUrl(): Promise<URL> {
  const self = fileURLToPath(import.meta.url);
  if (self.endsWith('.js')) return new URL('./gradient-worker.js', import.meta.url);
  const entry = join(dirname(self), 'gradient-worker.ts');
  const specifier: string = 'esbuild';
  const esbuild = (await import(specifier)) as typeof import('esbuild');
  const out = await esbuild.build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', packages: 'external', write: false, logLevel: 'silent' });
  const code = out.outputFiles[0]!.contents;
  const root = join(dirname(self), '..', '..');
  const file = join(root, 'node_modules', '.cache', 'whetstone', `gradient-worker-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, file);
  }
  return pathToFileURL(file);
}
