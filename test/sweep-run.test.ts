/**
 * Sweeps with the real components: `train` child processes, a real redis-server, BullMQ workers as
 * separate processes. A four-run sweep of a tiny config, run locally once as the reference; then
 * the same sweep killed mid-run and rerun, and the same sweep on a queue with two workers, one of
 * them SIGKILLed mid-run: every run ends exactly once with the reference's summary.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SweepSummary } from '../src/sweep/summary.js';
import { cli } from './helpers/cli.js';
import { allDead, checkpointedEpochs, comparable, FOUR_RUNS, REDIS_SERVER, requireFreshBuild, sleep, startRedis, TINY_BASE, whetstone } from './helpers/sweep.js';

let dir: string;
let reference: SweepSummary;
const summaries = (s: SweepSummary) => Object.fromEntries(s.runs.map((r) => [r.id, r.summary === null ? null : comparable(r.summary as unknown as Record<string, unknown>)]));
const readSweep = (folder: string) => JSON.parse(readFileSync(join(folder, 'sweep.json'), 'utf8')) as SweepSummary;

beforeAll(async () => {
  requireFreshBuild();
  dir = mkdtempSync(join(tmpdir(), 'whetstone-sweep-'));
  writeFileSync(join(dir, 'base.yaml'), TINY_BASE);
  writeFileSync(join(dir, 'four.yaml'), FOUR_RUNS);
  const r = await cli(['sweep', join(dir, 'four.yaml'), '--out', join(dir, 'reference'), '--backend', 'wasm', '--json']);
  expect(r.code, r.stderr).toBe(0);
  reference = JSON.parse(r.stdout) as SweepSummary;
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a local sweep', () => {
  it('trains every run into the sweep folder, ranked, and compare reads them', async () => {
    expect(reference.counts.done).toBe(4);
    expect(reference.runs.map((r) => r.rank)).toEqual([1, 2, 3, 4]);
    const metrics = reference.runs.map((r) => r.metric!);
    expect([...metrics].sort((a, b) => b - a)).toEqual(metrics);
    expect(new Set(reference.runs.map((r) => JSON.stringify(r.set))).size).toBe(4);
    const folder = join(dir, 'reference', 'four');
    expect(readSweep(folder)).toEqual(reference);
    expect(readFileSync(join(folder, 'report.html'), 'utf8')).toMatch(/data-chart="metric-training\.optimizer\.learning_rate"/);
    const runs = readdirSync(join(folder, 'runs')).map((d) => join(folder, 'runs', d));
    const compared = await cli(['compare', ...runs, '--json']);
    expect(compared.code, compared.stderr).toBe(0);
    expect((JSON.parse(compared.stdout) as { spiking_accuracy: number }[]).map((c) => c.spiking_accuracy).sort()).toEqual(reference.runs.map((r) => r.summary!.spiking_accuracy).sort());
    // A rerun of a finished sweep trains nothing.
    const again = await cli(['sweep', join(dir, 'four.yaml'), '--out', join(dir, 'reference'), '--backend', 'wasm']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/training|resuming/);
  });

  it('--matrix lists the runs for CI, and collect merges run directories into the same summary', async () => {
    const matrix = await cli(['sweep', join(dir, 'four.yaml'), '--matrix'], {}, dir);
    expect(matrix.code, matrix.stderr).toBe(0);
    const jobs = (JSON.parse(matrix.stdout) as { include: { id: string; command: string }[] }).include;
    expect(jobs.map((j) => j.id).sort()).toEqual(reference.runs.map((r) => r.id).sort());
    expect(jobs[0]!.command).toBe(`whetstone sweep four.yaml --only ${jobs[0]!.id}`);
    expect(existsSync(join(dir, 'runs'))).toBe(false); // --matrix runs nothing

    const runs = join(dir, 'reference', 'four', 'runs');
    const some = await cli(['sweep', 'collect', join(dir, 'four.yaml'), join(runs, jobs[0]!.id), join(runs, jobs[1]!.id), '--out', join(dir, 'collected'), '--json']);
    expect(some.code, some.stderr).toBe(0);
    expect((JSON.parse(some.stdout) as SweepSummary).counts).toMatchObject({ done: 2, pending: 2 });
    const all = await cli(['sweep', 'collect', join(dir, 'four.yaml'), runs, '--out', join(dir, 'collected'), '--json']);
    expect(all.code, all.stderr).toBe(0);
    const collected = JSON.parse(all.stdout) as SweepSummary;
    expect(collected).toEqual(reference);
    expect(readSweep(join(dir, 'collected', 'four'))).toEqual(collected);
  });

  it('killed mid-run, resumes with the same results', async () => {
    const out = join(dir, 'killed');
    const folder = join(out, 'four');
    const sweep = whetstone(['sweep', join(dir, 'four.yaml'), '--out', out, '--backend', 'wasm']);
    // Kill it when one run has ended and another has checkpointed its first of four epochs.
    const deadline = Date.now() + 90_000;
    let midRun: string | undefined;
    while (Date.now() < deadline && midRun === undefined) {
      await sleep(25);
      if (!existsSync(join(folder, 'runs'))) continue;
      const runs = readdirSync(join(folder, 'runs')).map((d) => join(folder, 'runs', d));
      const ended = runs.some((r) => existsSync(join(r, 'summary.json')));
      midRun = ended ? runs.find((r) => checkpointedEpochs(r) === 1) : undefined;
    }
    expect(midRun, sweep.stderr()).toBeDefined();
    const pids = readdirSync(join(folder, 'logs'))
      .filter((f) => f.endsWith('.pid'))
      .map((f) => Number(readFileSync(join(folder, 'logs', f), 'utf8')));
    sweep.child.kill('SIGKILL');
    expect((await sweep.exited).signal).toBe('SIGKILL');
    // Its training children die with it, the run unfinished.
    expect(await allDead(pids)).toBe(true);
    expect(existsSync(join(midRun!, 'summary.json'))).toBe(false);

    const rerun = await cli(['sweep', join(dir, 'four.yaml'), '--out', out, '--backend', 'wasm', '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toMatch(/resuming/);
    const resumed = JSON.parse(rerun.stdout) as SweepSummary;
    expect(resumed.counts.done).toBe(4);
    expect(summaries(resumed)).toEqual(summaries(reference));
    expect(resumed.runs.map((r) => r.id)).toEqual(reference.runs.map((r) => r.id));
  }, 180_000);
});

describe.skipIf(!existsSync(REDIS_SERVER))(`a sweep on a BullMQ queue (needs ${REDIS_SERVER}: apt-get install redis-server)`, () => {
  it('two workers, one SIGKILLed mid-run: every run done exactly once, as the local sweep', async () => {
    const redis = await startRedis();
    const out = join(dir, 'cluster'); // shared by both workers, as on a shared filesystem
    mkdirSync(out);
    const workers: ReturnType<typeof whetstone>[] = [];
    try {
      const enqueued = await cli(['sweep', join(dir, 'four.yaml'), '--queue', redis.url]);
      expect(enqueued.code, enqueued.stderr).toBe(0);
      expect(enqueued.stdout).toMatch(/4 run\(s\) enqueued/);
      const twice = await cli(['sweep', join(dir, 'four.yaml'), '--queue', redis.url]);
      expect(twice.stdout).toMatch(/0 run\(s\) enqueued, 0 failed run\(s\) retried, 4 already queued or done/);
      // A run whose config the worker's schema refuses: failed with the message, and the workers go on.
      const queue = new Queue('whetstone-runs', { connection: { host: '127.0.0.1', port: Number(new URL(redis.url).port) } });
      await queue.add('four', { sweep: 'broken', run_id: 'bad', index: 0, set: {}, yaml: 'model: {layers: [{type: dens, units: 4}]}\n' }, { jobId: 'broken.bad' });

      for (let i = 0; i < 2; i++) workers.push(whetstone(['worker', redis.url, '--out', out, '--backend', 'wasm', '--lock-seconds', '2']));
      // SIGKILL the worker whose run has checkpointed its first of four epochs.
      const folder = join(out, 'four');
      let victim: ReturnType<typeof whetstone> | undefined;
      let victimRun: string | undefined;
      const deadline = Date.now() + 90_000;
      while (Date.now() < deadline && victim === undefined) {
        await sleep(25);
        for (const w of workers) {
          const started = [...w.stderr().matchAll(/run four\/(\S+): training/g)].map((m) => m[1]!);
          const running = started.find((id) => !w.stderr().includes(`run four/${id}: done`) && checkpointedEpochs(join(folder, 'runs', id)) === 1);
          if (running !== undefined && !existsSync(join(folder, 'runs', running, 'summary.json'))) [victim, victimRun] = [w, running];
        }
      }
      expect(victim, workers.map((w) => w.stderr()).join('\n')).toBeDefined();
      const childPid = Number(readFileSync(join(folder, 'logs', `${victimRun}.pid`), 'utf8'));
      victim!.child.kill('SIGKILL');
      expect((await victim!.exited).signal).toBe('SIGKILL');
      expect(await allDead([childPid])).toBe(true); // the run died with its worker
      expect(existsSync(join(folder, 'runs', victimRun!, 'summary.json'))).toBe(false);

      const status = await cli(['sweep', 'status', join(dir, 'four.yaml'), '--queue', redis.url, '--out', out, '--watch', '--interval', '1', '--json']);
      expect(status.code, status.stderr).toBe(0);
      const summary = JSON.parse(status.stdout) as SweepSummary;
      expect(summary.counts).toMatchObject({ done: 4, failed: 0, running: 0, queued: 0 });
      expect(summaries(summary)).toEqual(summaries(reference));
      expect(summary.runs.map((r) => r.id)).toEqual(reference.runs.map((r) => r.id));
      expect(readSweep(folder)).toEqual(summary);

      // Exactly once: each run ended on one worker, the killed one's on the survivor, from its checkpoint.
      const survivor = workers.find((w) => w !== victim)!;
      const doneLines = workers.flatMap((w) => [...w.stderr().matchAll(/run four\/(\S+): done/g)].map((m) => m[1]!));
      expect(doneLines.sort()).toEqual(reference.runs.map((r) => r.id).sort());
      expect(survivor.stderr()).toMatch(new RegExp(`run four/${victimRun}: resuming from its checkpoint`));
      const bad = await queue.getJob('broken.bad');
      expect(await bad!.getState()).toBe('failed');
      expect(bad!.failedReason).toMatch(/broken\/bad:1:\d+ model\.layers\.0\.type: unknown type 'dens'/);
      await queue.close();
    } finally {
      for (const w of workers) w.child.kill('SIGKILL');
      await redis.stop();
    }
  }, 180_000);
});
