/**
 * Compute backend selection (DESIGN.md, "Compute backends").
 *
 * Order for 'auto': tfjs-node (native libtensorflow, only when installed and loadable) → wasm
 * (SIMD, shipped in its npm package) → cpu (pure JS, last resort). An explicit request that
 * cannot be honoured is an InputError, never a silent fallback.
 *
 * Selection prints nothing on stdout or stderr: tfjs's own warnings during initialisation are
 * captured and folded into `fallbackReason` / the error message, and the cpu backend's
 * "install tfjs-node" banner is switched off. The CLI reports the chosen backend itself.
 */
import { createRequire } from 'node:module';

import { InputError } from '../errors.js';
import { BackendInitFailed } from './errors.js';
import { tf } from './tf.js';
import { activateWasm } from './wasm.js';

export { tf } from './tf.js';
export { registerMissingWasmKernels } from './wasm-kernels.js';

/** Backend names a user may ask for (`--backend`, WHETSTONE_BACKEND, config). */
export type BackendName = 'auto' | 'tfjs-node' | 'wasm' | 'cpu';

/** All valid `BackendName`s, in documentation order. */
export const BACKEND_NAMES: readonly BackendName[] = ['auto', 'tfjs-node', 'wasm', 'cpu'];

/** What `initBackend` chose. */
export interface BackendInfo {
  /** The backend now active. */
  name: Exclude<BackendName, 'auto'>;
  /** What was asked for. */
  requested: BackendName;
  /** Version of @tensorflow/tfjs in use. */
  tfjsVersion: string;
  /** wasm only: whether the SIMD binary is used. */
  simd?: boolean;
  /** wasm only: threads XNNPACK uses (1: the threaded binary does not work in Node). */
  threads?: number;
  /** 'auto' only: why a faster backend was not used. */
  fallbackReason?: string;
}

/** Environment variable naming the backend when no explicit request is given. */
export const BACKEND_ENV_VAR = 'WHETSTONE_BACKEND';

/** tfjs engine names of our backends. */
const ENGINE_NAME = { 'tfjs-node': 'tensorflow', wasm: 'wasm', cpu: 'cpu' } as const;

const TFJS_NODE = '@tensorflow/tfjs-node';

/**
 * Which backend to use: the flag when given, else $WHETSTONE_BACKEND when set, else 'auto'.
 * Names are trimmed and case-insensitive.
 * @throws InputError for a name that is not one of BACKEND_NAMES.
 */
export function resolveRequestedBackend(flag?: string, env: NodeJS.ProcessEnv = process.env): BackendName {
  const fromFlag = flag?.trim();
  const fromEnv = env[BACKEND_ENV_VAR]?.trim();
  const [raw, source] = fromFlag ? [fromFlag, 'backend'] : fromEnv ? [fromEnv, BACKEND_ENV_VAR] : ['auto', ''];
  const name = raw.toLowerCase();
  if (!(BACKEND_NAMES as readonly string[]).includes(name)) {
    throw new InputError(
      `unknown ${source} '${raw}'; valid backends: ${BACKEND_NAMES.join(', ')}`,
      source === BACKEND_ENV_VAR ? `unset ${BACKEND_ENV_VAR} or set it to one of those` : undefined,
    );
  }
  return name as BackendName;
}

/**
 * Runs `fn` with console.warn/console.log captured. tfjs reports backend init failures (and
 * "already registered" notices) only through console.warn; we want them in our error messages
 * instead of on the terminal. Only used during backend selection, at startup.
 *
 * Emscripten binds console.warn/log once, when the wasm module is created (inside this window),
 * and keeps that reference for the life of the process. So the stand-ins forward to the real
 * console once the window closes, instead of swallowing the wasm runtime's later messages.
 */
async function capturingConsole<T>(fn: () => Promise<T>): Promise<{ value?: T; error?: unknown; logs: string[] }> {
  const logs: string[] = [];
  let capturing = true;
  const { warn, log } = console;
  const standIn =
    (original: (...args: unknown[]) => void) =>
    (...args: unknown[]): void => {
      if (capturing) logs.push(args.map(String).join(' '));
      else original.apply(console, args);
    };
  console.warn = standIn(warn);
  console.log = standIn(log);
  try {
    return { value: await fn(), logs };
  } catch (error) {
    return { error, logs };
  } finally {
    capturing = false;
    console.warn = warn;
    console.log = log;
  }
}

/** One line saying why a backend failed: the thrown error, or what tfjs warned when it says nothing. */
function reasonOf(error: unknown, logs: string[]): string {
  let text = error instanceof Error ? error.message : String(error);
  if (error instanceof BackendInitFailed) {
    // tfjs warns "Initialization of backend X failed", then the cause: prefer the cause.
    const cause = logs.map((l) => l.trim()).find((l) => l !== '' && !/^Initialization of backend/.test(l));
    if (cause !== undefined) text = cause;
  }
  return (text.split('\n')[0] ?? '').replace(/^Error:\s*/, '').slice(0, 300) || 'unknown error';
}

/** Whether tfjs-node is installed at all (resolvable), without loading it. */
export function isTfjsNodeInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve(TFJS_NODE);
    return true;
  } catch {
    return false;
  }
}

/**
 * The cpu backend warns "Hi, looks like you are running TensorFlow.js in Node.js..." on its first
 * tensor (console.warn). Its only guard besides the IS_TEST/PROD flags (which would also mute
 * every other tfjs warning) is the instance's `firstUse` field; clear it so the banner never
 * prints, whichever backend is active now or later.
 */
function silenceCpuBanner(): void {
  const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
  if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
}

type Attempt = { ok: true; info: Partial<BackendInfo> } | { ok: false; reason: string; hint: string };

async function tryTfjsNode(): Promise<Attempt> {
  const hint = 'npm install @tensorflow/tfjs-node (needs network access to download libtensorflow), or use --backend wasm';
  if (!isTfjsNodeInstalled()) return { ok: false, reason: 'tfjs-node is not installed', hint };
  const r = await capturingConsole(async () => {
    // libtensorflow logs to fd 2 from C++ (cpu feature notices), out of reach of the console
    // capture; its own knob silences the info-level ones. An explicit user setting wins.
    process.env['TF_CPP_MIN_LOG_LEVEL'] ??= '2';
    // A variable specifier keeps TypeScript from requiring the optional package's types.
    const specifier: string = TFJS_NODE;
    await import(specifier);
    if (!(await tf.setBackend(ENGINE_NAME['tfjs-node']))) throw new BackendInitFailed('backend did not initialise');
  });
  if (r.error === undefined) return { ok: true, info: {} };
  return {
    ok: false,
    reason: `tfjs-node failed to load: ${reasonOf(r.error, r.logs)}`,
    hint: 'reinstall @tensorflow/tfjs-node (its libtensorflow download may have failed), or use --backend wasm',
  };
}

async function tryWasm(): Promise<Attempt> {
  const r = await capturingConsole(activateWasm);
  if (r.value !== undefined) return { ok: true, info: { simd: r.value.simd, threads: r.value.threads } };
  return {
    ok: false,
    reason: `wasm backend failed: ${reasonOf(r.error, r.logs)}`,
    hint: 'check that @tensorflow/tfjs-backend-wasm is installed with its dist/*.wasm files, or use --backend cpu',
  };
}

async function tryCpu(): Promise<Attempt> {
  if (!(await tf.setBackend('cpu'))) return { ok: false, reason: 'cpu backend failed', hint: '' };
  return { ok: true, info: {} };
}

const ATTEMPTS = { 'tfjs-node': tryTfjsNode, wasm: tryWasm, cpu: tryCpu } as const;

async function select(requested: BackendName): Promise<BackendInfo> {
  const tfjsVersion = tf.version.tfjs;
  if (requested !== 'auto') {
    const attempt = await ATTEMPTS[requested]();
    if (!attempt.ok) throw new InputError(`backend '${requested}' is unavailable: ${attempt.reason}`, attempt.hint);
    return { name: requested, requested, tfjsVersion, ...attempt.info };
  }
  const reasons: string[] = [];
  for (const name of ['tfjs-node', 'wasm', 'cpu'] as const) {
    const attempt = await ATTEMPTS[name]();
    if (attempt.ok) {
      const fallbackReason = reasons.length > 0 ? reasons.join('; ') : undefined;
      return { name, requested, tfjsVersion, ...attempt.info, ...(fallbackReason ? { fallbackReason } : {}) };
    }
    reasons.push(attempt.reason);
  }
  // Unreachable in practice: the cpu backend is pure JS and always initialises.
  throw new InputError(`no compute backend could be initialised: ${reasons.join('; ')}`);
}

let current: BackendInfo | undefined;
let queue: Promise<unknown> = Promise.resolve();

/**
 * Selects and activates the compute backend. Call once at startup, before building models.
 *
 * Idempotent: asking again for what is already active returns the same BackendInfo without
 * touching tfjs. Asking for something else switches backends. Concurrent calls are serialised.
 *
 * @param requested defaults to `resolveRequestedBackend()` ($WHETSTONE_BACKEND, else 'auto').
 * @throws InputError when an explicitly requested backend cannot be used (with an install hint),
 *   or when the name is not a backend.
 */
export async function initBackend(requested: BackendName = resolveRequestedBackend()): Promise<BackendInfo> {
  const name = resolveRequestedBackend(requested, {});
  const run = async (): Promise<BackendInfo> => {
    if (current && current.requested === name && tf.getBackend() === ENGINE_NAME[current.name]) return current;
    silenceCpuBanner();
    current = await select(name);
    return current;
  };
  const result = queue.then(run, run);
  queue = result.catch(() => undefined);
  return result;
}

/** The backend chosen by the last successful `initBackend`, if any. */
export function currentBackend(): BackendInfo | undefined {
  return current;
}
