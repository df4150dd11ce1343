/**
 * Setting up tfjs-backend-wasm in Node.
 *
 * Pitfalls this module exists for (measured with tfjs-backend-wasm 4.22, Node 20):
 * - Paths: the backend locates its .wasm binaries relative to the script that loads them, which
 *   breaks as soon as anything bundles or re-roots the code. We point it at the installed
 *   package's own dist/ directory (resolved with createRequire), as a directory prefix ending in
 *   a path separator: Emscripten concatenates prefix + file name and reads it with fs in Node.
 * - SIMD: detected by the backend itself (WebAssembly.validate on a SIMD probe); Node 20 has it,
 *   so the tfjs-backend-wasm-simd.wasm binary is used.
 * - Threads: the threaded-SIMD binary does NOT work in Node. Its pthread workers are started from
 *   a `blob:` URL, which worker_threads rejects (ERR_WORKER_PATH), and the failed init poisons the
 *   backend for the rest of the process. tfjs already reports WASM_HAS_MULTITHREAD_SUPPORT=false
 *   under Node; we pin it to false so nothing (a stray env flag) can turn it on. XNNPACK then runs
 *   single-threaded (getThreadsCount() === 1).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { BackendInitFailed } from './errors.js';
import { tf } from './tf.js';
import { registerMissingWasmKernels } from './wasm-kernels.js';

/** What the wasm backend ended up using. */
export interface WasmSetup {
  simd: boolean;
  threads: number;
}

type WasmModule = typeof import('@tensorflow/tfjs-backend-wasm');

let wasmModule: WasmModule | undefined;

/**
 * Directory (with trailing separator) holding the installed package's .wasm binaries.
 * @throws Error when the package or its SIMD binary cannot be found.
 */
export function wasmBinaryDir(): string {
  const require = createRequire(import.meta.url);
  // The package's main is dist/tf-backend-wasm.node.js; the binaries sit next to it.
  const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  const probe = path.join(dir, 'tfjs-backend-wasm-simd.wasm');
  if (!existsSync(probe)) throw new Error(`wasm binary not found at ${probe}`);
  return dir + path.sep;
}

/**
 * Loads tfjs-backend-wasm (once), points it at its binaries and registers the kernels it lacks.
 * Does not switch the active backend.
 */
async function loadWasmModule(): Promise<WasmModule> {
  if (wasmModule !== undefined) return wasmModule;
  // Imported lazily: the package is large and only needed when wasm is actually chosen.
  const mod = await import('@tensorflow/tfjs-backend-wasm');
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  mod.setWasmPaths(wasmBinaryDir());
  registerMissingWasmKernels('wasm');
  wasmModule = mod;
  return mod;
}

/**
 * Makes 'wasm' the active tfjs backend.
 * @returns whether SIMD is used and how many threads XNNPACK runs.
 * @throws Error (with the reason) when the backend cannot be initialised.
 */
export async function activateWasm(): Promise<WasmSetup> {
  const mod = await loadWasmModule();
  const ok = await tf.setBackend('wasm');
  if (!ok) throw new BackendInitFailed('tfjs could not initialise the wasm backend');
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  return { simd, threads: mod.getThreadsCount() };
}
