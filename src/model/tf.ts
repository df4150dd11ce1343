// tfjs is imported in exactly one place (src/backend/tf.ts); the model code takes it from there.
export { tf } from '../backend/tf.js';
