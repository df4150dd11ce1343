/**
 * `whetstone report` and `whetstone compare`: a real ci-smoke run trained in-process (train writes
 * the report at its end), opened in headless Chromium; a golden report.md of a recorded run; bad
 * run directories; and the report library reaching no tfjs.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportAfterTraining } from '../src/cli/run-session.js';
import { Output } from '../src/cli/output.js';
import { readRun, sharpnessTrace } from '../src/report/index.js';
import { duration } from '../src/util/format.js';
import { cli } from './helpers/cli.js';

const root = resolve(import.meta.dirname, '..');
const FIXTURE = join(root, 'test/fixtures/report-run/ci-smoke-20261128-102417');
const GOLDEN = join(root, 'test/golden/report.md');
const CHROMIUM = '/usr/bin/chromium';
const CHARTS = ['accuracy', 'loss', 'sharpness', 'spikes', 'active', 'operations', 'energy', 'confusion'];

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'whetstone-report-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A fresh copy of the recorded run (report writes into the run directory). */
function fixtureCopy(name: string): string {
  const dir = join(tmp, name, 'ci-smoke-20261128-102417');
  mkdirSync(dirname(dir), { recursive: true });
  cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

describe('a ci-smoke run: train writes the report, Chromium shows it', () => {
  let runDir: string;
  let train: Awaited<ReturnType<typeof cli>>;
  let browser: Browser;

  beforeAll(async () => {
    train = await cli(['train', 'configs/ci-smoke.yaml', '--out', join(tmp, 'live')], {}, root);
    const runs = readdirSync(join(tmp, 'live'));
    runDir = join(tmp, 'live', runs[0]!);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 300_000);
  afterAll(async () => browser?.close());

  it('train exits 0 and writes report.html, report.md and the charts beside it', () => {
    expect(train.stderr).not.toMatch(/error|warning/);
    expect(train.code).toBe(0);
    expect(train.stderr).toContain(`report: ${join(runDir, 'report.html')}`);
    for (const f of ['report.html', 'report.md', ...CHARTS.map((c) => `charts/${c}.svg`)]) expect(existsSync(join(runDir, f)), f).toBe(true);
  });

  it('report.md carries the run’s own numbers', () => {
    const md = readFileSync(join(runDir, 'report.md'), 'utf8');
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'));
    const evaluation = JSON.parse(readFileSync(join(runDir, 'evaluation.json'), 'utf8'));
    expect(md).toContain(`| spiking (tfjs) | ${(summary.spiking_accuracy * 100).toFixed(2)}% | 1,000 |`);
    expect(md).toContain(`| non-spiking (before sharpening) | ${(summary.unsharpened_accuracy * 100).toFixed(2)}% |`);
    for (const layer of evaluation.layers) expect(md).toMatch(new RegExp(`\\| ${layer.name} \\| dense \\| ${layer.step} \\| ${layer.neurons} \\|`));
    for (const row of evaluation.energy.rows) expect(md).toContain(row.source);
    for (const c of CHARTS) expect(md).toContain(`](charts/${c}.svg)`);
    expect(md).toMatch(/\| phase +\| learning rate +\| seconds +\|/);
    const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    for (const m of metrics) expect(md).toMatch(new RegExp(`\\| ${m.phase} +\\| ${m.learning_rate} +\\|`));
  });

  it('opens offline in headless Chromium with no console errors, no requests, and marks drawn in every chart', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('request', (r) => requests.push(r.url()));
    const url = `file://${join(runDir, 'report.html')}`;
    await page.goto(url, { waitUntil: 'load' });
    const shot = join(tmp, 'report.png');
    await page.screenshot({ path: shot, fullPage: true });
    if (process.env.REPORT_SCREENSHOT) cpSync(shot, process.env.REPORT_SCREENSHOT);
    expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
    expect(errors).toEqual([]);
    expect(requests).toEqual([url]); // the page itself, nothing else: no fonts, scripts or images from anywhere

    // Per chart: drawn marks (children of Vega's mark groups, not axes or legends) with a visible size.
    const marks = await page.$$eval('figure.chart', (figures) =>
      Object.fromEntries(
        figures.map((f) => {
          const drawn = [...f.querySelectorAll('g.role-mark > *')].filter((el) => {
            const box = (el as unknown as { getBBox(): { width: number; height: number } }).getBBox();
            return box.width > 0 || box.height > 0;
          });
          const byTag: Record<string, number> = {};
          for (const el of drawn) byTag[el.tagName] = (byTag[el.tagName] ?? 0) + 1;
          return [f.getAttribute('data-chart')!, byTag];
        }),
      ),
    );
    expect(Object.keys(marks).sort()).toEqual([...CHARTS].sort());
    const evaluation = JSON.parse(readFileSync(join(runDir, 'evaluation.json'), 'utf8'));
    const layers = evaluation.layers.length;
    const classes = evaluation.class_names.length;
    const epochs = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').length;
    expect(marks.accuracy!.path).toBeGreaterThanOrEqual(3 + 3 * epochs); // 3 lines + a point per epoch each (+ the band)
    expect(marks.loss!.path).toBeGreaterThanOrEqual(1 + epochs);
    expect(marks.sharpness!.path).toBe(3); // one line per spiking layer
    expect(marks.spikes!.path).toBe(layers); // one bar per layer
    expect(marks.spikes!.text).toBe(layers);
    expect(marks.active!.path).toBe(layers);
    expect(marks.operations!.path).toBe(2 * layers); // events and MACs per layer
    expect(marks.energy!.path).toBe(evaluation.energy.rows.length);
    expect(marks.confusion!.path).toBe(classes * classes);
    expect(marks.confusion!.text).toBe(classes * classes);

    // Every key figure's value stays on one line, at full width and on a narrow window.
    for (const width of [1200, 700]) {
      await page.setViewportSize({ width, height: 900 });
      const wrapped = await page.$$eval('.card .value', (values) =>
        // One line of text is about 1.2 font sizes high; two lines are 2.4.
        values.filter((v) => v.getBoundingClientRect().height > 1.8 * parseFloat((globalThis as unknown as { getComputedStyle(e: unknown): { fontSize: string } }).getComputedStyle(v).fontSize)).map((v) => v.textContent),
      );
      expect(wrapped, `at ${width} px`).toEqual([]);
    }
    const card = await page.$$eval('.card', (cards) => cards.map((c) => c.textContent ?? '').find((t) => t.startsWith('training time')));
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'));
    // The card and the CLI name the same two times, formatted the same way.
    expect(card).toContain(`${duration(summary.train_seconds)}of ${duration(summary.wall_seconds)} for the whole run`);
    expect(train.stdout).toContain(`time        ${duration(summary.wall_seconds)} for the whole run; training ${duration(summary.train_seconds)} of it`);
    await page.close();
  });

  it('whetstone report re-renders the same report.md', async () => {
    const before = readFileSync(join(runDir, 'report.md'), 'utf8');
    rmSync(join(runDir, 'report.md'));
    const r = await cli(['report', runDir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('report.html');
    expect(readFileSync(join(runDir, 'report.md'), 'utf8')).toBe(before);
  });

  it('compare prints both runs’ key figures; --json gives one object per run', async () => {
    const recorded = fixtureCopy('compare');
    const table = await cli(['compare', runDir, recorded]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^run +dataset +epochs +unsharpened +spiking/);
    expect(lines[2]).toMatch(/^ci-smoke-20261128-102417 +mnist +8 +90\.00% +87\.20% +2\.80 pp +87\.20% /);

    const json = await cli(['compare', runDir, recorded, '--json']);
    expect(json.code).toBe(0);
    const runs = JSON.parse(json.stdout);
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'));
    expect(runs).toHaveLength(2);
    expect(runs[0].spiking_accuracy).toBe(summary.spiking_accuracy);
    expect(runs[0].synaptic_events_per_inference).toBe(summary.snn.synaptic_events_per_inference);
    expect(runs[1]).toMatchObject({ run: 'ci-smoke-20261128-102417', spiking_accuracy: 0.872, unsharpened_accuracy: 0.9, epochs: 8 });
    expect(runs[1].energy_per_inference.Loihi).toBeCloseTo(14816.504 * 23.6e-12, 15);
  });
});

describe('report.md of a recorded ci-smoke run (golden)', () => {
  it('matches test/golden/report.md with paths and times normalised', async () => {
    const dir = fixtureCopy('golden');
    const r = await cli(['report', dir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const md = readFileSync(join(dir, 'report.md'), 'utf8')
      .replaceAll(dir, '<run-dir>')
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>');
    if (process.env.UPDATE_GOLDEN) writeFileSync(GOLDEN, md);
    expect(md).toBe(readFileSync(GOLDEN, 'utf8'));
  });

  it('replays the per-batch schedule and checks it against every epoch: a bottom-up staircase', () => {
    const run = readRun(FIXTURE);
    const trace = sharpnessTrace(run.config, run.metrics, run.summary!.train_images);
    expect(trace.resolution).toBe('batches');
    // The trace is drawn as straight segments between its points: read it the same way.
    const at = (l: number, x: number) => {
      const pts = trace.points.filter((p) => p.layer === l);
      const i = pts.findIndex((p) => p.epoch >= x);
      const [a, b] = [pts[Math.max(0, i - 1)]!, pts[i]!];
      return b.epoch === a.epoch ? b.sharpness : a.sharpness + ((b.sharpness - a.sharpness) * (x - a.epoch)) / (b.epoch - a.epoch);
    };
    // ci-smoke: 141 batches per epoch, 282 steps per layer from epoch index 2 → layer l ramps over epochs 2+2l … 4+2l.
    for (let l = 0; l < 3; l++) {
      expect(at(l, 2 + 2 * l)).toBe(0);
      expect(at(l, 2 + 2 * l + 10 / 141)).toBeCloseTo(10 / 282, 9);
      expect(at(l, 3 + 2 * l)).toBeCloseTo(0.5, 9);
      expect(at(l, 4 + 2 * l)).toBe(1);
      if (l < 2) expect(at(l + 1, 4 + 2 * l)).toBe(0); // the next layer starts only when this one is a step
    }
    // Straight ramps need only their ends: a handful of points per layer, not one per batch.
    expect(trace.points.length).toBeLessThan(30);
    // A record the schedule cannot reproduce is drawn as recorded, per epoch.
    const altered = run.metrics.map((m, i) => (i === 3 ? { ...m, sharpness: [0.9, 0, 0] } : m));
    expect(sharpnessTrace(run.config, altered, run.summary!.train_images).resolution).toBe('epochs');
  });

  it('an interrupted run (no summary.json, no evaluation.json) renders its training record only', async () => {
    const dir = fixtureCopy('interrupted');
    rmSync(join(dir, 'summary.json'));
    rmSync(join(dir, 'evaluation.json'));
    const r = await cli(['report', dir]);
    expect(r.code).toBe(0);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect([...html.matchAll(/data-chart="(\w+)"/g)].map((m) => m[1])).toEqual(['accuracy', 'loss', 'sharpness']);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain('This run has not ended');
    const compare = await cli(['compare', dir]);
    expect(compare.code).toBe(2);
    expect(compare.stderr).toContain('the run has not ended (no summary.json)');
  });
});

describe('a run made before train wrote snn/ (summary.json without snn, no evaluation.json)', () => {
  it('renders and compares, with the simulator figures n/a', async () => {
    const dir = fixtureCopy('old');
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    delete summary.snn;
    writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary));
    rmSync(join(dir, 'evaluation.json'));
    const r = await cli(['report', dir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain('| spiking (tfjs) | 87.20% | 1,000 |');
    const compare = await cli(['compare', dir, '--json']);
    expect(compare.code).toBe(0);
    expect(JSON.parse(compare.stdout)[0]).toMatchObject({ spiking_accuracy: 0.872, simulator_accuracy: null, agrees_with_tfjs: null, energy_per_inference: null });
  });
});

describe('bad run directories: one line, exit 2, nothing written', () => {
  const oneLineError = (stderr: string) => {
    const lines = stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^error /);
    expect(stderr).not.toMatch(/\n\s+at /);
    return lines[0]!;
  };

  it('a missing directory, a directory that is not a run, a damaged metrics line, a damaged evaluation', async () => {
    const missing = await cli(['report', join(tmp, 'nope')]);
    expect(missing.code).toBe(2);
    expect(oneLineError(missing.stderr)).toContain('nope: cannot read run directory (no such file)');

    mkdirSync(join(tmp, 'empty'));
    const empty = await cli(['report', join(tmp, 'empty')]);
    expect(empty.code).toBe(2);
    expect(oneLineError(empty.stderr)).toContain('empty: not a run directory (no config.yaml)');

    const damaged = fixtureCopy('damaged');
    const lines = readFileSync(join(damaged, 'metrics.jsonl'), 'utf8').split('\n');
    lines[4] = lines[4]!.replace('"loss":', '"loss":"x",');
    writeFileSync(join(damaged, 'metrics.jsonl'), lines.join('\n'));
    const bad = await cli(['report', damaged]);
    expect(bad.code).toBe(2);
    expect(oneLineError(bad.stderr)).toMatch(/metrics\.jsonl:5: not valid JSON/);
    expect(existsSync(join(damaged, 'report.html'))).toBe(false);
    expect(existsSync(join(damaged, 'charts'))).toBe(false);

    const evaluation = fixtureCopy('bad-evaluation');
    const e = JSON.parse(readFileSync(join(evaluation, 'evaluation.json'), 'utf8'));
    e.confusion.pop();
    writeFileSync(join(evaluation, 'evaluation.json'), JSON.stringify(e));
    const badEval = await cli(['report', evaluation]);
    expect(badEval.code).toBe(2);
    expect(oneLineError(badEval.stderr)).toContain('evaluation.json: the confusion matrix is not 10 × 10');
    expect(existsSync(join(evaluation, 'report.md'))).toBe(false);

    const compare = await cli(['compare', fixtureCopy('ok'), join(tmp, 'empty')]);
    expect(compare.code).toBe(2);
    expect(compare.stdout).toBe('');
  });

  it('after training, a report that cannot be written is a warning, not a failure of the run', async () => {
    let stderr = '';
    const out = new Output({ stdout: { write: () => true }, stderr: { write: (s: string) => (stderr += s) }, env: { CI: 'true' } });
    await expect(reportAfterTraining(join(tmp, 'empty'), out)).resolves.toBeNull();
    expect(stderr).toMatch(/^warning the report was not written \(.*not a run directory \(no config\.yaml\)\); the run itself is complete\. Retry with: whetstone report /);
  });
});

describe('docs/report.md', () => {
  it('documents every summary.json key and every compare --json key', async () => {
    const { SUMMARY_KEYS } = await import('../src/train/pipeline.js');
    const doc = readFileSync(join(root, 'docs/report.md'), 'utf8');
    for (const key of SUMMARY_KEYS) expect(doc, key).toContain(`\`${key}\``);
    const [run] = (await import('../src/report/index.js')).compareRuns([FIXTURE]);
    for (const key of Object.keys(run!)) expect(doc, key).toContain(`\`${key}\``);
  });
});

describe('the report needs no tfjs', () => {
  it('no module statically reachable from src/report/index.ts imports tfjs, the backend or the model', () => {
    const IMPORT = /^\s*import\s+(?!type\b)[^'"]*?from\s+'([^']+)'|^\s*export\s+(?!type\b)[^'"]*?from\s+'([^']+)'/gm;
    const seen = new Map<string, string[]>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      const specs = [...readFileSync(file, 'utf8').matchAll(IMPORT)].map((m) => (m[1] ?? m[2])!);
      seen.set(file, specs);
      for (const s of specs) if (s.startsWith('.')) visit(resolve(dirname(file), s).replace(/\.js$/, '.ts'));
    };
    visit(join(root, 'src/report/index.ts'));
    expect(seen.size).toBeGreaterThan(8);
    const offenders = [...seen].filter(([, specs]) => specs.some((s) => s.startsWith('@tensorflow') || /backend\/|model\/|train\//.test(s)));
    expect(offenders.map(([f]) => f)).toEqual([]);
  });
});
