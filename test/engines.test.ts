/**
 * One Node.js version, said the same way everywhere: package.json's `engines.node` is a range that
 * every installed runtime dependency accepts (else `npm install` warns EBADENGINE on a version we
 * claim to support), and the README states its minimum.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { dev?: boolean; engines?: { node?: string } | string[] }>;
};

describe('supported Node.js versions', () => {
  it('declares a range that every runtime dependency in package-lock.json accepts', () => {
    const ours = pkg.engines.node;
    expect(semver.validRange(ours)).not.toBeNull();
    const refusing: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (path === '' || entry.dev === true || entry.engines === undefined || Array.isArray(entry.engines)) continue;
      const theirs = entry.engines.node;
      if (theirs !== undefined && semver.validRange(theirs) !== null && !semver.subset(ours, theirs)) refusing.push(`${path} needs ${theirs}`);
    }
    expect(refusing, `engines.node ${ours} allows versions these packages refuse`).toEqual([]);
  });

  it('says the same minimum in the README', () => {
    const min = semver.minVersion(pkg.engines.node)!;
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toContain(`Node.js ${min.major}.${min.minor} or newer`);
  });

  it('would catch a dependency that needs a newer Node.js (vega-lite 6.5 needs 22)', () => {
    expect(semver.subset(pkg.engines.node, '>=22')).toBe(false);
  });
});
