/** Run directories: `<out>/<experiment>-<UTC timestamp>` (or a path given by a sweep), created fresh, never reused. */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InputError } from '../errors.js';
import { describeFsError } from '../util/fs-errors.js';

function timestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

export function createRunDir(outDir: string, name: string, now = new Date()): string {
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) {
    throw new InputError(`${outDir}: output path is a file, not a directory`);
  }
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (e) {
    throw new InputError(`${outDir}: cannot create output directory (${describeFsError(e)})`);
  }
  const base = `${name}-${timestamp(now)}`;
  for (let i = 1; ; i++) {
    const dir = join(outDir, i === 1 ? base : `${base}-${i}`);
    try {
      mkdirSync(dir);
      return dir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw new InputError(`${outDir}: cannot create run directory (${describeFsError(e)})`);
    }
  }
}

/** Exactly `dir`, with its parents (a sweep names its runs); refused if it exists and is not an empty directory. */
export function createNamedRunDir(dir: string): string {
  if (existsSync(dir) && (!statSync(dir).isDirectory() || readdirSync(dir).length > 0)) {
    throw new InputError(`${dir}: the run directory already exists (resume it with: whetstone train --resume ${dir})`);
  }
  try {
    mkdirSync(dirname(dir), { recursive: true });
    mkdirSync(dir, { recursive: true });
    return dir;
  } catch (e) {
    throw new InputError(`${dir}: cannot create run directory (${describeFsError(e)})`);
  }
}
