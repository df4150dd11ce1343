/**
 * Before/after of the wasm kernels: images/s of `model.trainOnBatch` (1 thread, wasm) for the code
 * in another checkout of this repository, so that two versions can be timed alternately:
 *
 *   git worktree add --detach /tmp/base e4c20e3 && ln -s "$PWD/node_modules" /tmp/base/node_modules
 *   for r in 1 2 3; do
 *     npx vite-node bench/ab-step.ts /tmp/base mnist-cnn 4; npx vite-node bench/ab-step.ts "$PWD" mnist-cnn 4
 *   done
 *
 * Arguments: checkout root, network (`mnist-small` = the CNN, or a config name), seconds.
 */
const [root, which, secondsArg] = process.argv.slice(2);
const { initBackend, tf } = await import(`${root}/src/backend/index.js`);
const { buildModel } = await import(`${root}/src/model/builder.js`);
const { createOptimizer } = await import(`${root}/src/train/optimizer.js`);
const { loadExperiment } = await import(`${root}/src/config/loader.js`);
await initBackend('wasm');
let model: any, batch: number;
if (which === 'mnist-small') {
  batch = 64;
  const g = (s: number) => tf.initializers.glorotUniform({ seed: s });
  model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: g(3) }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: g(4) }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: g(5) }));
  model.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: g(6) }));
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
} else {
  const { config } = loadExperiment(`${root}/configs/${which}.yaml`);
  batch = config.training.batch_size;
  model = buildModel(config.model, { inputShape: [28, 28, 1], classes: 10, seed: 1 }).model;
  model.compile({ optimizer: createOptimizer(config.training.optimizer), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
}
const x = tf.randomUniform([batch, 28, 28, 1], 0, 1, 'float32', 1);
const y = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32', 2), 10);
for (let i = 0; i < 3; i++) await model.trainOnBatch(x, y);
const t1 = performance.now(); await model.trainOnBatch(x, y); const one = (performance.now() - t1) / 1000;
const steps = Math.max(2, Math.round(Number(secondsArg ?? 3) / one));
const t0 = performance.now();
for (let i = 0; i < steps; i++) await model.trainOnBatch(x, y);
console.log(((steps * batch) / ((performance.now() - t0) / 1000)).toFixed(1));
