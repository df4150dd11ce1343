/**
 * Helpers for running the same computation on two tfjs backends in one process and comparing.
 * Data crosses backends as plain typed arrays, never as tensors (a tensor belongs to the backend
 * that was active when it was made).
 */
import { tf } from '../../src/backend/index.js';
import { SeededRandom } from '../../src/util/random.js';

/** Uniform values in [-1, 1) from a seeded stream, so every backend sees identical inputs. */
export function randomValues(size: number, seed: number): Float32Array {
  const rng = new SeededRandom(seed);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = rng.next() * 2 - 1;
  return out;
}

/** Product of a shape's dimensions. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Switches to `backend`, runs `fn` inside tf.tidy, and returns the resulting tensors' values
 * as typed arrays (and disposes the tensors).
 */
export async function valuesOn(backend: string, fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  if (!(await tf.setBackend(backend))) throw new Error(`cannot switch to ${backend}`);
  const tensors = tf.tidy(fn);
  const values = await Promise.all(tensors.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose(tensors);
  return values;
}

/** Largest |a[i] - b[i]|; Infinity when lengths differ. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Largest |a[i]|, to report tolerances relative to the magnitude of what was compared. */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}
