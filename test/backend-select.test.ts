/**
 * Backend selection: names, WHETSTONE_BACKEND, fallbacks, errors, idempotency, and silence.
 * Runs in its own process (vitest pool 'forks'), so tfjs starts with no backend chosen.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

import { InputError } from '../src/errors.js';
import {
  BACKEND_NAMES,
  currentBackend,
  initBackend,
  isTfjsNodeInstalled,
  resolveRequestedBackend,
  tf,
  type BackendName,
} from '../src/backend/index.js';

/** Spies on every way something could reach the terminal while `fn` runs. */
async function outputDuring(fn: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const record = (...args: unknown[]) => void seen.push(args.map(String).join(' '));
  const spies = [
    vi.spyOn(console, 'log').mockImplementation(record),
    vi.spyOn(console, 'warn').mockImplementation(record),
    vi.spyOn(console, 'error').mockImplementation(record),
    vi.spyOn(console, 'info').mockImplementation(record),
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (record(chunk), true)),
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (record(chunk), true)),
  ];
  try {
    await fn();
  } finally {
    spies.forEach((s) => s.mockRestore());
  }
  return seen;
}

describe('resolveRequestedBackend', () => {
  it('defaults to auto', () => {
    expect(resolveRequestedBackend(undefined, {})).toBe('auto');
    expect(resolveRequestedBackend('', { WHETSTONE_BACKEND: '' })).toBe('auto');
  });

  it('takes WHETSTONE_BACKEND when no flag is given, and the flag over it', () => {
    expect(resolveRequestedBackend(undefined, { WHETSTONE_BACKEND: 'cpu' })).toBe('cpu');
    expect(resolveRequestedBackend('wasm', { WHETSTONE_BACKEND: 'cpu' })).toBe('wasm');
    expect(resolveRequestedBackend(' WASM ', {})).toBe('wasm');
  });

  it('reads process.env by default', () => {
    vi.stubEnv('WHETSTONE_BACKEND', 'tfjs-node');
    try {
      expect(resolveRequestedBackend()).toBe('tfjs-node');
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('rejects unknown names with an InputError listing the valid ones', () => {
    for (const [flag, env] of [['gpu', {}], [undefined, { WHETSTONE_BACKEND: 'webgl' }]] as const) {
      let err: unknown;
      try {
        resolveRequestedBackend(flag, env);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InputError);
      const msg = (err as InputError).message;
      for (const name of BACKEND_NAMES) expect(msg).toContain(name);
      expect(msg).not.toContain('\n');
      if (flag === undefined) expect(msg).toContain('WHETSTONE_BACKEND');
    }
  });
});

describe('initBackend', () => {
  afterEach(() => vi.unstubAllEnvs());

  it.skipIf(isTfjsNodeInstalled())('refuses tfjs-node when it is not installed, with an install hint', async () => {
    const err = await initBackend('tfjs-node').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).exitCode).toBe(2);
    expect((err as InputError).message).toMatch(/tfjs-node/);
    expect((err as InputError).message).not.toContain('\n');
    expect((err as InputError).hint).toMatch(/npm install @tensorflow\/tfjs-node/);
  });

  it('auto picks the best available backend and prints nothing while doing so', async () => {
    let info: Awaited<ReturnType<typeof initBackend>> | undefined;
    const out = await outputDuring(async () => {
      info = await initBackend('auto');
    });
    expect(out).toEqual([]);
    expect(info?.requested).toBe('auto');
    expect(info?.tfjsVersion).toBe(tf.version.tfjs);
    if (isTfjsNodeInstalled()) return; // then it is (or failed over from) tfjs-node
    expect(info?.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info?.fallbackReason).toMatch(/tfjs-node is not installed/);
    expect(info?.simd).toBe(true); // Node 20 supports wasm SIMD
    expect(info?.threads).toBe(1); // the threaded binary cannot start workers in Node
  });

  it('is idempotent: the same request returns the same info without re-initialising', async () => {
    const first = await initBackend('auto');
    const spy = vi.spyOn(tf.engine(), 'setBackend'); // the ESM namespace itself cannot be spied on
    try {
      expect(await initBackend('auto')).toBe(first);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it('switches on an explicit request, and the cpu backend shows no "install tfjs-node" banner', async () => {
    const out = await outputDuring(async () => {
      const info = await initBackend('cpu');
      expect(info).toMatchObject({ name: 'cpu', requested: 'cpu' });
      expect(info.fallbackReason).toBeUndefined();
      tf.tensor([1, 2, 3]).square().dataSync(); // the banner would print on first use
    });
    expect(out).toEqual([]);
    expect(tf.getBackend()).toBe('cpu');
    expect(currentBackend()?.name).toBe('cpu');
  });

  it('uses WHETSTONE_BACKEND when called without an argument', async () => {
    vi.stubEnv('WHETSTONE_BACKEND', 'wasm');
    const info = await initBackend();
    expect(info).toMatchObject({ name: 'wasm', requested: 'wasm', simd: true });
    expect(tf.getBackend()).toBe('wasm');
  });

  it('rejects a name that is not a backend', async () => {
    await expect(initBackend('gpu' as BackendName)).rejects.toBeInstanceOf(InputError);
  });

  it('serialises concurrent calls', async () => {
    const [a, b, c] = await Promise.all([initBackend('cpu'), initBackend('wasm'), initBackend('cpu')]);
    expect(a.name).toBe('cpu');
    expect(b.name).toBe('wasm');
    expect(c.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });
});
