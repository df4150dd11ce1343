/**
 * The one place that imports TensorFlow.js. Every other module must get `tf` from here
 * (`import { tf } from '../backend/index.js'`) so that the whole program shares one engine,
 * one kernel registry and one import style.
 *
 * Why '@tensorflow/tfjs' and not '@tensorflow/tfjs-node': tfjs-node is optional (its install
 * downloads libtensorflow from outside the registry). When it is present, `initBackend` loads
 * it dynamically; it registers its 'tensorflow' backend into this same engine, so code written
 * against this `tf` runs on it unchanged.
 *
 * Importing this module prints nothing. The only console output tfjs produces on its own in
 * Node is the cpu backend's "install tfjs-node" banner (console.warn → stderr, on the cpu
 * backend's first tensor); `initBackend` switches that off — see `silenceCpuBanner`.
 */
import * as tf from '@tensorflow/tfjs';

export { tf };
