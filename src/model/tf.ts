/**
 * The one way this project imports TensorFlow.js. Everything tfjs-dependent (model/, train/,
 * backend/) imports `tf` from here, so that the whole program shares one engine and one
 * kernel registry whichever backend is active.
 */
import * as tf from '@tensorflow/tfjs';

export { tf };
