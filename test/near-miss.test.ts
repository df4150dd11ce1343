/** "Did you mean …?" for mistyped paths: each missing component is replaced by its closest sibling, offered only if the result exists. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closest, nearMissPath, pathHint } from '../src/util/near-miss.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'whetstone-near-miss-'));
  mkdirSync(join(dir, 'configs'));
  for (const f of ['quickstart.yaml', 'mnist-cnn.yaml', 'mnist-dense.yaml']) writeFileSync(join(dir, 'configs', f), '');
  mkdirSync(join(dir, 'runs', 'quickstart-20261202-101500'), { recursive: true });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('nearMissPath', () => {
  it('fixes a typo in the file name, keeping the path relative as typed', () => {
    expect(nearMissPath('configs/quikstart.yaml', dir)).toBe('configs/quickstart.yaml');
    expect(nearMissPath('configs/mnist-cnm.yaml', dir)).toBe('configs/mnist-cnn.yaml');
  });

  it('fixes a typo in a directory and the file together', () => {
    expect(nearMissPath('config/quickstrat.yaml', dir)).toBe('configs/quickstart.yaml');
    expect(nearMissPath(join(dir, 'config', 'quickstart.yaml'), dir)).toBe(join(dir, 'configs', 'quickstart.yaml'));
  });

  it('offers nothing for a path that exists, or for a name nothing resembles', () => {
    expect(nearMissPath('configs/quickstart.yaml', dir)).toBeUndefined();
    expect(nearMissPath('configs/zzzzzzzz.yaml', dir)).toBeUndefined();
    expect(nearMissPath('nowhere/at/all.yaml', dir)).toBeUndefined();
  });

  it('words the hint with the short path under the working directory', () => {
    expect(pathHint(join(dir, 'configs', 'quikstart.yaml'), dir)).toBe('did you mean configs/quickstart.yaml?');
    expect(pathHint('configs/quickstart.yaml', dir)).toBeUndefined();
  });

  it('keeps the config schema\'s closest-key behaviour', () => {
    expect(closest('epoch', ['epochs', 'batch_size'])).toBe('epochs');
    expect(closest('zzzzzz', ['epochs', 'batch_size'])).toBeUndefined();
  });
});
