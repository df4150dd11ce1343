import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from './helpers/cli.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'whetstone-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('CLI conventions', () => {
  it('prints help and version with exit 0', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const cmd of ['train', 'sharpen', 'evaluate', 'export', 'report', 'validate', 'schema', 'sweep', 'worker']) {
      expect(help.stdout).toContain(cmd);
    }
    const version = await cli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('an unknown command or option is a usage error (exit 2) with a suggestion', async () => {
    const r = await cli(['trian', 'x.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Did you mean train?");
    const o = await cli(['validate', '--frobnicate', 'x.yaml']);
    expect(o.code).toBe(2);
    expect(o.stderr).toContain("unknown option '--frobnicate'");
    expect(o.stderr).toContain('usage: whetstone validate [options] <config...>');
  });

  it('a missing argument prints the error, then the usage line of that command', async () => {
    for (const [cmd, usage] of [
      ['evaluate', 'usage: whetstone evaluate [options] <run-dir|network.json>'],
      ['report', 'usage: whetstone report [options] <run-dir>'],
      ['train', 'usage: whetstone train [options] [config]'],
    ] as const) {
      const r = await cli([cmd]);
      expect(r.code).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines[0]).toMatch(/^error/);
      expect(lines[1]).toContain(usage);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('no command prints help to stderr and exits 2', async () => {
    const r = await cli([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: whetstone');
  });

  it('an unknown backend name is a usage error listing the valid ones', async () => {
    const r = await cli(['train', 'configs/ci-smoke.yaml', '--backend', 'gpu']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/auto.*tfjs-node.*wasm.*cpu/);
  });

  it('WHETSTONE_BACKEND with an unknown name is rejected in one line', async () => {
    const r = await cli(['train', 'configs/ci-smoke.yaml'], { WHETSTONE_BACKEND: 'tpu' });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')[0]).toMatch(/WHETSTONE_BACKEND|tpu/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('whetstone validate', () => {
  it('accepts every shipped config', async () => {
    const r = await cli(['validate', 'configs/quickstart.yaml', 'configs/ci-smoke.yaml']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ok configs/quickstart.yaml');
  });

  it('reports file:line:col, the dotted path and a did-you-mean hint, exit 2', async () => {
    const bad = file(
      'bad.yaml',
      ['model:', '  layers:', '    - {type: flatten}', '    - {type: dense, units: 0}', 'training:', '  epoch: 3', '  batch_size: many', ''].join('\n'),
    );
    const r = await cli(['validate', bad]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${bad}:4:28 model.layers.1.units: must be a positive integer`);
    expect(r.stderr).toContain(`${bad}:6:3 training.epoch: unknown key (did you mean 'epochs'?)`);
    expect(r.stderr).toContain(`${bad}:7:15 training.batch_size: must be a positive integer`);
  });

  it('rejects empty files, malformed YAML, alias bombs and missing files in one line each', async () => {
    const cases: [string, RegExp][] = [
      [file('empty.yaml', ''), /is empty/],
      [file('broken.yaml', 'model: [unclosed\n'), /invalid YAML/],
      [file('list.yaml', '- 1\n- 2\n'), /must be a mapping/],
      [
        file('bomb.yaml', ['a: &a [x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]', 'e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]', ''].join('\n')),
        /invalid YAML: .*alias/i,
      ],
      [join(dir, 'missing.yaml'), /cannot read config \(no such file\)/],
    ];
    for (const [path, pattern] of cases) {
      const r = await cli(['validate', path]);
      expect(r.code, path).toBe(2);
      expect(r.stderr, path).toMatch(pattern);
      expect(r.stderr, path).not.toMatch(/\n\s+at /);
    }
  });
});

describe('whetstone schema', () => {
  it('prints a JSON Schema that describes the experiment sections', async () => {
    const r = await cli(['schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout);
    expect(schema.$schema).toMatch(/json-schema/);
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['dataset', 'model', 'training', 'sharpening', 'seed']));
    expect(schema.additionalProperties).toBe(false);
  });

  it('--sweep prints the JSON Schema of sweep files', async () => {
    const r = await cli(['schema', '--sweep']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout);
    expect(schema.$id).toBe('urn:whetstone:sweep');
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['base', 'grid', 'random', 'seeds', 'metric', 'early_stopping', 'budget']));
    expect(schema.required).toEqual(['base']);
  });
});
