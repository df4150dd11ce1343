/**
 * A run killed with SIGKILL in the middle of an epoch — a real child process, no chance to clean
 * up — resumes with `--resume` and ends exactly like a run that was never interrupted: the same
 * number of epochs and the same metrics, epoch for epoch.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
let out: string;
beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'whetstone-kill-'));
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

const CONFIG = `
name: killed
seed: 11
dataset: {name: mnist, limit: {train: 2000, test: 200}, validation: 0.1}
model:
  layers: [{type: flatten}, {type: dense, units: 64}, {type: spiking}]
  output: {neurons_per_class: 4}
training: {epochs: 5, batch_size: 32}
sharpening: {schedule: simple, start_epoch: 1, steps: 1, per: epoch}
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function metricsOf(runDir: string): Record<string, unknown>[] {
  const file = join(runDir, 'metrics.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
const withoutTimes = (metrics: Record<string, unknown>[]) => metrics.map(({ seconds: _s, images_per_second: _i, ...rest }) => rest);

describe('SIGKILL in the middle of an epoch', () => {
  it('--resume finishes with the epochs and metrics of an uninterrupted run', async () => {
    const config = join(out, 'killed.yaml');
    writeFileSync(config, CONFIG);

    // The reference: the same experiment, never interrupted.
    const whole = await cli(['train', config, '--out', join(out, 'whole'), '--backend', 'wasm']);
    expect(whole.code, whole.stderr).toBe(0);
    const wholeRun = join(out, 'whole', readdirSync(join(out, 'whole'))[0]!);
    const reference = metricsOf(wholeRun);
    expect(reference.length).toBeGreaterThanOrEqual(3);

    // A real child process, killed partway through its third epoch.
    const killedOut = join(out, 'killed');
    const child = spawn(process.execPath, [join(root, 'node_modules/vite-node/vite-node.mjs'), join(root, 'test/helpers/run-cli.ts'), 'train', config, '--out', killedOut, '--backend', 'wasm'], {
      cwd: root,
      env: { ...process.env, CI: 'true' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));

    let runDir: string | undefined;
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      if (!runDir && existsSync(killedOut)) {
        const runs = readdirSync(killedOut);
        if (runs.length > 0) runDir = join(killedOut, runs[0]!);
      }
      if (runDir && metricsOf(runDir).length >= 2) break;
      await sleep(20);
    }
    expect(runDir, stderr).toBeDefined();
    const done = metricsOf(runDir!);
    expect(done.length, stderr).toBeGreaterThanOrEqual(2);
    // Half an epoch later the child is inside epoch 3: kill it without warning.
    const epochSeconds = Number(done[1]!.seconds);
    await sleep(Math.max(50, epochSeconds * 500));
    child.kill('SIGKILL');
    const { signal } = await exited;
    expect(signal).toBe('SIGKILL');
    const before = metricsOf(runDir!).length;
    expect(before).toBeLessThan(reference.length); // it really was cut short

    const resumed = await cli(['train', '--resume', runDir!, '--backend', 'wasm']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(new RegExp(`resuming at epoch ${before + 1}|resuming at epoch ${before}`));
    const after = metricsOf(runDir!);
    expect(after.map((m) => m.epoch)).toEqual(reference.map((m) => m.epoch));
    expect(withoutTimes(after)).toEqual(withoutTimes(reference));
    const summary = (dir: string) => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(summary(runDir!).spiking_accuracy).toBe(summary(wholeRun).spiking_accuracy);
    expect(readFileSync(join(runDir!, 'snn', 'weights.bin')).equals(readFileSync(join(wholeRun, 'snn', 'weights.bin')))).toBe(true);
    // No temporary checkpoint left behind.
    expect(readdirSync(runDir!).filter((f) => f.includes('.tmp'))).toEqual([]);
  }, 240_000);
});
