/**
 * Kernel profile of one training step (`npm run bench:profile -- [config|mnist-small] [--batch N]`):
 * runs a few warm-up steps, then profiles steps with tf.profile and prints, per kernel, the
 * total milliseconds per step and its share, largest first. For finding what to speed up next.
 */
import { initBackend, tf } from '../src/backend/index.js';
import { loadDataset } from '../src/data/index.js';
import { benchBatch, benchNetworks } from './networks.js';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const which = args.find((a) => !a.startsWith('--') && args[args.indexOf(a) - 1] !== '--batch' && args[args.indexOf(a) - 1] !== '--steps') ?? 'mnist-small';
const steps = Number(opt('--steps') ?? 3);

await initBackend((opt('--backend') as 'wasm' | 'cpu' | undefined) ?? 'wasm');
const net = benchNetworks(root).find((n) => n.id === which);
if (net === undefined) throw new Error(`unknown network ${which}; one of ${benchNetworks(root).map((n) => n.id).join(', ')}`);
const batch = Number(opt('--batch') ?? net.batchSize);
const { model } = net.build();
const data = await loadDataset({ name: 'mnist', validation: 0 });
const b = benchBatch(data, batch, 1);
const x = tf.tensor4d(b.x, [batch, 28, 28, 1]);
const y = tf.oneHot(tf.tensor1d(b.labels, 'int32'), 10);
for (let i = 0; i < 2; i++) await model.trainOnBatch(x, y);
const totals = new Map<string, { ms: number; calls: number }>();
let wall = 0;
for (let s = 0; s < steps; s++) {
  const t0 = performance.now();
  const info = await tf.profile(async () => {
    await model.trainOnBatch(x, y);
  });
  wall += performance.now() - t0;
  for (const k of info.kernels) {
    const key = args.includes('--shapes') ? `${k.name} ${JSON.stringify(k.inputShapes)}` : k.name;
    const e = totals.get(key) ?? { ms: 0, calls: 0 };
    e.ms += Number(await k.kernelTimeMs);
    e.calls++;
    totals.set(key, e);
  }
}
const sum = [...totals.values()].reduce((a, b) => a + b.ms, 0);
process.stdout.write(`${net.id}, batch ${batch}: ${(wall / steps).toFixed(0)} ms per step profiled (kernels ${(sum / steps).toFixed(0)} ms)\n`);
for (const [name, e] of [...totals].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) {
  process.stdout.write(`${name.padEnd(args.includes('--shapes') ? 60 : 28)} ${(e.ms / steps).toFixed(1).padStart(8)} ms ${((100 * e.ms) / sum).toFixed(1).padStart(5)}%  ${e.calls / steps} calls\n`);
}
