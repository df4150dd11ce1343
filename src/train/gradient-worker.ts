/**
 * A gradient worker (worker_threads) of the data-parallel trainer (parallel.ts): its own tfjs and
 * backend instance and its own copy of the model, rebuilt from the model's JSON with our custom
 * layers registered. Each step it takes the main thread's current weights (sharpness included)
 * from shared memory, computes the gradients of its slice of the batch and writes them, with its
 * batch-norm moving statistics, back to shared memory.
 */
import { parentPort, workerData } from 'node:worker_threads';

import { initBackend, type BackendName } from '../backend/index.js';
import { reseedDropout } from '../model/dropout.js';
import '../model/layers/decode.js';
import '../model/layers/spiking.js';
import { tf } from '../model/tf.js';
import { sliceGradients, weightLayout, writeWeights } from './gradients.js';

/** What parallel.ts hands each worker at start. */
export interface WorkerInit {
  readonly index: number;
  readonly backend: Exclude<BackendName, 'auto'>;
  readonly modelJson: string;
  readonly shape: readonly [number, number, number];
  readonly classes: number;
  /** Every weight, layout order (gradients.ts), written by the main thread before each step. */
  readonly weights: SharedArrayBuffer;
  /** This worker's gradient array. */
  readonly grads: SharedArrayBuffer;
  /** This worker's batch-norm moving statistics after its forward pass, `running` order. */
  readonly running: SharedArrayBuffer;
}

export type ToWorker =
  | { readonly type: 'step'; readonly x: SharedArrayBuffer; readonly labels: SharedArrayBuffer; readonly start: number; readonly count: number; readonly seed: number };

export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'done'; readonly loss: number; readonly accuracy: number }
  | { readonly type: 'error'; readonly message: string };

const port = parentPort!;
const init = workerData as WorkerInit;
const post = (m: FromWorker) => port.postMessage(m);

try {
  await initBackend(init.backend);
  const model = await tf.models.modelFromJSON({ modelTopology: JSON.parse(init.modelJson) as tf.serialization.ConfigDict });
  const layout = weightLayout(model);
  const weights = new Float32Array(init.weights);
  const grads = new Float32Array(init.grads);
  const running = new Float32Array(init.running);
  const pixels = init.shape[0] * init.shape[1] * init.shape[2];
  port.on('message', (m: ToWorker) => {
    try {
      writeWeights(model, layout, weights);
      reseedDropout(model, m.seed, init.index);
      const x = new Float32Array(m.x, m.start * pixels * 4, m.count * pixels);
      const labels = new Uint8Array(m.labels, m.start, m.count);
      const r = sliceGradients(model, layout, x, labels, init.shape, init.classes, grads);
      let o = 0;
      for (const i of layout.running) {
        const v = model.weights[i]!.read().dataSync() as Float32Array;
        running.set(v, o);
        o += v.length;
      }
      post({ type: 'done', loss: r.loss, accuracy: r.accuracy });
    } catch (e) {
      post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
    }
  });
  post({ type: 'ready' });
} catch (e) {
  post({ type: 'error', message: `worker ${init.index} failed to start: ${e instanceof Error ? e.message : String(e)}` });
}
