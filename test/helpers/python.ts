/**
 * Debian's interpreter (/usr/bin/python3, where python3-torch, -onnx, -h5py and -numpy live in its
 * dist-packages; installed by .ci/run), or WHETSTONE_PYTHON. Tests that need it run it; a missing
 * interpreter or package fails them, as for the export tests.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeNpy } from '../../src/export/npy.js';
import { identityOrder, loadDataset, normaliseBatch } from '../../src/data/index.js';

export const PYTHON = process.env.WHETSTONE_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
export const PYTHON_DIR = new URL('../python/', import.meta.url).pathname;

export function python(args: string[], cwd?: string): string {
  return execFileSync(PYTHON, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
}
/** Runs a script whose last stdout line is JSON. */
export const pyJson = <T = Record<string, unknown>>(args: string[], cwd?: string) => JSON.parse(python(args, cwd).trim().split('\n').at(-1)!) as T;

/**
 * Writes the first `train` and `test` MNIST images in [0, 1] as N×1×28×28 float32 (NCHW, which for
 * one channel is the same bytes as tfjs's NHWC) plus int32 labels into `dir`: train_x.npy,
 * train_y.npy, test_x.npy, test_y.npy. Returns the test images as tfjs reads them.
 */
export async function writeMnistNpy(dir: string, train: number, test: number): Promise<{ testX: Float32Array; testY: Int32Array }> {
  const data = await loadDataset({ name: 'mnist', limit: { train, test }, validation: 0 });
  const out = { testX: new Float32Array(), testY: new Int32Array() };
  for (const [name, split] of [['train', data.train], ['test', data.test]] as const) {
    const b = normaliseBatch(split, identityOrder(split.count), data.shape);
    const y = Int32Array.from(b.y);
    writeFileSync(join(dir, `${name}_x.npy`), encodeNpy({ dtype: '<f4', data: b.x }, [b.count, 1, 28, 28]));
    writeFileSync(join(dir, `${name}_y.npy`), encodeNpy({ dtype: '<i4', data: y }, [b.count]));
    if (name === 'test') Object.assign(out, { testX: b.x, testY: y });
  }
  return out;
}

/** The largest |difference| between two sets of outputs (rows of the same length), printed: docs/results.md quotes it. */
export function largestDifference(ours: number[][], theirs: number[][], label: string, against: string): number {
  if (ours.length !== theirs.length) throw new Error(`${label}: ${ours.length} rows of outputs against ${theirs.length} from ${against}`);
  let max = 0;
  ours.forEach((row, i) => row.forEach((v, j) => (max = Math.max(max, Math.abs(v - theirs[i]![j]!)))));
  console.log(`${label}: largest |difference| from ${against} over ${ours.length} images × ${ours[0]!.length} outputs: ${max.toExponential(1)}`);
  return max;
}
