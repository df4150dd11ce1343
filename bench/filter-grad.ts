/**
 * The conv2d filter gradient on wasm, both ways we compute it (src/backend/wasm-kernels.ts): as a
 * convolution, and as a product with x's patch matrix. Interleaved in one process, a fresh dy
 * each call (XNNPACK caches packed operands by tensor), median of 40 calls:
 *
 *   npx vite-node bench/filter-grad.ts [height] [input channels] [kernel size]
 */
import { initBackend, tf } from '../src/backend/index.js';
import { setPatchRowsMax } from '../src/backend/wasm-kernels.js';

const [H, CIN, KS] = [28, 1, 3].map((d, i) => Number(process.argv[2 + i] ?? d)) as [number, number, number];
await initBackend('wasm');
const x = tf.randomUniform([64, H, H, CIN], 0, 1, 'float32', 1);
const dy = tf.randomUniform([64, H - KS + 1, H - KS + 1, 32], -1, 1, 'float32', 2);
const times: Record<'convolution' | 'patches', number[]> = { convolution: [], patches: [] };
for (let r = 0; r < 40; r++) {
  for (const way of ['convolution', 'patches'] as const) {
    setPatchRowsMax(way === 'patches' ? Number.MAX_SAFE_INTEGER : 0);
    const fresh = tf.mul(dy, 1);
    const t0 = performance.now();
    const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: fresh }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', filterShape: [KS, KS, CIN, 32] }) as tf.Tensor;
    await dw.data();
    times[way].push(performance.now() - t0);
    tf.dispose([dw, fresh]);
  }
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
console.log(`x [64,${H},${H},${CIN}], ${KS}×${KS} kernel, 32 filters: convolution ${median(times.convolution).toFixed(2)} ms, patches ${median(times.patches).toFixed(2)} ms`);
