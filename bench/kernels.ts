/**
 * Kernel micro-benchmark (`npx vite-node bench/kernels.ts [reps]`): each of our wasm heap kernels
 * against the backend's own kernel it replaces, on the shapes of the small CNN (batch 64),
 * interleaved in one process, median milliseconds per call. For deciding what pays.
 */
import { tf } from '../src/backend/tf.js';
import '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../src/backend/index.js';

const reps = Number(process.argv[2] ?? 30);
const natives = new Map(['MaxPoolGrad', 'Sum'].map((k) => [k, tf.getKernel(k, 'wasm')!.kernelFunc]));
await initBackend('wasm');
const backend = tf.backend();

function rnd(shape: number[]): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, 'float32', 7);
}
const cases: { name: string; kernel: string; inputs: Record<string, tf.Tensor>; attrs: Record<string, unknown> }[] = [];
{
  const x = rnd([64, 26, 26, 32]);
  cases.push({ name: 'Sum [64,26,26,32] over 0,1,2', kernel: 'Sum', inputs: { x }, attrs: { axis: [0, 1, 2], keepDims: false } });
  for (const input of [x, rnd([64, 11, 11, 64])]) {
    const output = tf.maxPool(input as tf.Tensor4D, 2, 2, 'valid');
    cases.push({
      name: `MaxPoolGrad [${input.shape}] 2×2`,
      kernel: 'MaxPoolGrad',
      inputs: { dy: rnd(output.shape), input, output },
      attrs: { filterSize: 2, strides: 2, pad: 'valid' },
    });
  }
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
for (const c of cases) {
  const ours = tf.getKernel(c.kernel, 'wasm')!.kernelFunc;
  const native = natives.get(c.kernel)!;
  const t: Record<'native' | 'ours', number[]> = { native: [], ours: [] };
  const inputs = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, { dataId: v.dataId, shape: v.shape, dtype: v.dtype }]));
  for (let r = 0; r < reps; r++) {
    for (const which of ['native', 'ours'] as const) {
      const f = which === 'native' ? native : ours;
      const t0 = performance.now();
      const out = f({ inputs: inputs as tf.NamedTensorInfoMap, backend, attrs: c.attrs as tf.NamedAttrMap }) as tf.TensorInfo;
      t[which].push(performance.now() - t0);
      backend.disposeData(out.dataId);
    }
  }
  const n = median(t.native);
  const o = median(t.ours);
  console.log(`${c.name.padEnd(34)} backend ${n.toFixed(2).padStart(6)} ms   ours ${o.toFixed(2).padStart(6)} ms   ${(n / o).toFixed(2)}×`);
}
