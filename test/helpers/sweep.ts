/** A tiny four-run sweep and the helpers the sweep tests share (real processes, real redis-server). */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const REDIS_SERVER = '/usr/bin/redis-server';

/** Each run trains in a few seconds: 300 images, one hidden layer of 16, four epochs (sharpening in 3 and 4). */
export const TINY_BASE = `
name: tiny
seed: 3
dataset: {name: mnist, limit: {train: 300, test: 100}, validation: 0.1}
model:
  layers: [{type: flatten}, {type: dense, units: 16}, {type: spiking}]
  output: {neurons_per_class: 2}
training: {epochs: 4, batch_size: 50}
sharpening: {schedule: simple, start_epoch: 2, steps: 1, per: epoch}
`;

export const FOUR_RUNS = `
name: four
base: base.yaml
grid:
  training.optimizer.learning_rate: [1.0, 4.0]
seeds: [1, 2]
budget: {max_concurrent: 2}
`;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sweeps start `node bin/whetstone.js train`, the built CLI: a dist/ older than src/ would test
 * yesterday's trainer. Throws with the fix when it is stale.
 */
export function requireFreshBuild(): void {
  const built = join(ROOT, 'dist/cli/main.js');
  if (!existsSync(built)) throw new Error('dist/ is missing: run `npm run build` first (npm install does it)');
  const newest = (dir: string): number =>
    Math.max(...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));
  if (newest(join(ROOT, 'src')) > statSync(built).mtimeMs) throw new Error('dist/ is older than src/: run `npm run build` first');
}

/** The built CLI as a child process, stderr collected. */
export function whetstone(args: string[], cwd = ROOT): { child: ChildProcess; stderr: () => string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn(process.execPath, [join(ROOT, 'bin/whetstone.js'), ...args], { cwd, env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return { child, stderr: () => stderr, exited };
}

/** Epochs in the run's checkpoint (0 without one; state.json is written last). */
export function checkpointedEpochs(runDir: string): number {
  const file = join(runDir, 'checkpoint', 'state.json');
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { epochsDone: number }).epochsDone;
  } catch {
    return 0;
  }
}

/** Waits until none of the processes is alive; false if some still are after `ms`. */
export async function allDead(pids: readonly number[], ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (pids.some(alive)) {
    if (Date.now() > end) return false;
    await sleep(20);
  }
  return true;
}

/** A summary without what depends on the machine's speed. */
export function comparable(summary: Record<string, unknown>): Record<string, unknown> {
  const { wall_seconds: _w, train_seconds: _t, images_per_second: _i, ...rest } = summary;
  return rest;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A free loopback port (the OS picks it; closed again before redis-server binds it). */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => done(port));
    });
  });
}

/** redis-server on a loopback port, no persistence; resolves once it accepts connections. */
export async function startRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const child = spawn(REDIS_SERVER, ['--save', '', '--appendonly', 'no', '--port', String(port), '--bind', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`redis-server did not start: ${log}`)), 10_000);
    child.stdout!.on('data', (d: Buffer) => {
      log += d.toString();
      if (/Ready to accept connections/.test(log)) {
        clearTimeout(timer);
        ready();
      }
    });
    child.once('exit', (code) => fail(new Error(`redis-server exited (${code}): ${log}`)));
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
