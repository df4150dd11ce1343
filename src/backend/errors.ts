/**
 * Internal to src/backend: thrown when tf.setBackend() returns false. tfjs gives no reason in
 * that case; it has already reported the cause through console.warn, which backend selection
 * captures and uses for the message instead.
 */
export class BackendInitFailed extends Error {}
