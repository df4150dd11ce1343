/**
 * "Did you mean …?" for paths that do not exist: each missing component of the path is replaced by
 * the closest name in its parent directory (a typo of a letter or two, a missing plural s), and the corrected path is offered only if it exists. A hint, never a silent fix.
 */
import { existsSync, readdirSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = prev[j]!;
      prev[j] = Math.min(above + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = above;
    }
  }
  return prev[b.length]!;
}

/** The candidate closest to `word`, if it is close enough to be a plausible typo (ties: the first given). */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

/**
 * For a path that does not exist, the existing path it was probably meant to be, spelled the way the
 * user spelled theirs (relative stays relative): `configs/quikstart.yaml` → `configs/quickstart.yaml`.
 * `cwd` resolves relative paths. Undefined when the path exists or nothing close does.
 */
export function nearMissPath(shown: string, cwd: string = process.cwd()): string | undefined {
  const absolute = resolve(cwd, shown);
  if (existsSync(absolute)) return undefined;
  const parts = shown.split(/[\\/]+/);
  let dir = isAbsolute(shown) ? sep : cwd;
  const fixed: string[] = [];
  let changed = false;
  for (const [i, part] of parts.entries()) {
    if (part === '' && i === 0) {
      fixed.push('');
      continue;
    }
    let name = part;
    if (part !== '.' && part !== '..' && part !== '' && !existsSync(join(dir, part))) {
      let entries: string[];
      try {
        entries = readdirSync(dir);
      } catch {
        return undefined;
      }
      const close = closest(part, entries.sort());
      if (close === undefined) return undefined;
      name = close;
      changed = true;
    }
    fixed.push(name);
    dir = join(dir, name);
  }
  if (!changed || !existsSync(dir)) return undefined;
  return fixed.join('/');
}

/** `did you mean X?` for a missing path, or undefined (an InputError's hint). */
export function pathHint(shown: string, cwd?: string): string | undefined {
  const guess = nearMissPath(shown, cwd);
  if (guess === undefined) return undefined;
  // An absolute path under the working directory is offered as the short path one would type.
  const short = isAbsolute(guess) ? relative(cwd ?? process.cwd(), guess) : guess;
  return `did you mean ${short !== '' && !short.startsWith('..') && !isAbsolute(short) ? short : guess}?`;
}
